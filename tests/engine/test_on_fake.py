"""The engine on the in-memory platform, in both shapes: fast, and every invariant checked
(no loss, no duplicate, nothing published while paused, originals restored, idempotence)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from empause.config import Settings, default_organization
from empause.engine.service import Engine
from empause.platforms.fake import FakePlatform
from empause.platforms.port import Ambiguous
from empause.store.db import Database

EM_TEAM = "team-em"
DAY = timedelta(days=1)


@pytest.fixture(params=["copies", "in-place"])
def fake(request: pytest.FixtureRequest) -> FakePlatform:
    platform = FakePlatform(moves_in_place=request.param == "in-place",
                            teams={"m-em": {EM_TEAM}})  # fmt: skip
    for n in range(20):
        platform.add(f"post {n}", timedelta(hours=2 + 7 * n), profile_id=f"p{n % 3}",
                     tags=[f"t{n}"])  # fmt: skip
    platform.add("next month", 30 * DAY)
    return platform


@pytest.fixture
def engine(fake: FakePlatform, db: Database) -> Engine:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db.url, organization_id="org-1", emergency_team_id=EM_TEAM,
    )  # fmt: skip
    return Engine(db, fake, default_organization(settings), clock=lambda: fake.now, lock_timeout=5)


def in_window(fake: FakePlatform, days: float = 7) -> list[str]:
    end = fake.now + timedelta(days=days)
    return [m.text for m in fake.live() if m.state == "SCHEDULED" and m.scheduled_send_time < end]


def texts(fake: FakePlatform) -> Counter[str]:
    return Counter(m.text for m in fake.live())


async def test_pause_then_resume_puts_everything_back(fake: FakePlatform, engine: Engine) -> None:
    before = {m.text: (m.scheduled_send_time, m.profile_id, m.raw.get("tags")) for m in fake.live()}
    paused = await engine.pause("storm", by="tester")
    assert paused["in_scope"] == paused["moved"] == 20 and paused["failed"] == 0
    assert in_window(fake) == []
    if fake.capabilities.moves_in_place:  # one call per item, nothing taken down
        assert fake.calls["restore"] == 20 and fake.calls["neutralise"] == 0
    fake.advance(3 * 86400)
    assert fake.published == []  # nothing went out while paused
    resumed = await engine.resume("original", by="tester")
    assert resumed["failed"] == 0
    assert texts(fake) == Counter(dict.fromkeys(before, 1))  # no loss, no duplicate
    for message in fake.live():
        when, profile, tags = before[message.text]
        assert (message.profile_id, message.raw.get("tags")) == (profile, tags)  # no field lost
        if when > fake.now + timedelta(minutes=2):
            assert message.scheduled_send_time == when  # back at its own time
        else:  # its time passed while paused: left where it was moved, for review
            assert message.scheduled_send_time > fake.now


async def test_hold_takes_items_out_until_resume(fake: FakePlatform, engine: Engine) -> None:
    await engine.pause("storm", by="tester", strategy="hold")
    assert in_window(fake, days=365) == ["next month"]  # held: nothing else in the schedule
    await engine.resume("keep", by="tester")
    assert sorted(texts(fake)) == sorted([f"post {n}" for n in range(20)] + ["next month"])
    assert max(texts(fake).values()) == 1


async def test_pressing_twice_is_harmless(fake: FakePlatform, engine: Engine) -> None:
    first = await engine.pause("storm", by="tester")
    again = await engine.pause("storm", by="tester")
    assert again["already_paused"] and again["operation_id"] == first["operation_id"]
    await engine.resume("original", by="tester")
    assert (await engine.resume("original", by="tester"))["not_paused"]
    assert max(texts(fake).values()) == 1


async def test_a_lost_restore_response_never_makes_a_duplicate(
    fake: FakePlatform, engine: Engine
) -> None:
    for _ in range(3):
        fake.fail_next("restore", Ambiguous("response lost"), applied=True)
    paused = await engine.pause("storm", by="tester")
    assert paused["moved"] == 20 and paused["failed"] == 0
    assert max(texts(fake).values()) == 1 and len(texts(fake)) == 21
    assert fake.calls["find_restored"] >= 3  # looked before trying again


async def test_a_crash_mid_pause_is_finished_from_the_journal(
    fake: FakePlatform, engine: Engine
) -> None:
    # The process "dies" at its first upstream call, after the journal was written.
    fake.fail_next("restore" if fake.moves_in_place else "neutralise", RuntimeError("died"))
    with pytest.raises(RuntimeError):
        await engine.pause("storm", by="tester")
    recovered = await engine.recover()
    assert recovered and recovered[0]["moved"] == 20
    assert in_window(fake) == [] and max(texts(fake).values()) == 1
