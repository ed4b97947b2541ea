"""Timed pauses: the end (and a scheduled start) lives in the organization's row, fires
once however many workers try at the same moment, and can be moved or cancelled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from empause.config import Settings, default_organization
from empause.domain.timeutil import utcnow
from empause.domain.validation import InvalidParameter
from empause.engine.service import Engine
from empause.jobs.inprocess import InProcessQueue
from empause.jobs.settings import JobSettings
from empause.platforms.fake import FakePlatform
from empause.store.models import AuditEvent, Operation


def _engine(db, fake: FakePlatform) -> Engine:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db.url, organization_id="org-1", emergency_team_id="team-em",
    )  # fmt: skip
    return Engine(db, fake, default_organization(settings), clock=lambda: fake.now,
                  lock_timeout=10)  # fmt: skip


@pytest.fixture
def fake() -> FakePlatform:
    platform = FakePlatform()
    for n in range(6):
        platform.add(f"post {n}", timedelta(hours=3 + 10 * n), profile_id=f"p{n % 2}")
    return platform


async def _resumes(db) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(
            select(func.count()).select_from(Operation).where(Operation.kind == "resume")
        ) or 0)  # fmt: skip


async def test_a_timed_pause_ends_once_under_concurrent_timers(db, fake):
    engine = _engine(db, fake)
    result = await engine.pause("storm", by="em@example.org", until="2h", end_restore="keep")
    assert result["moved"] == 6 and result["ends_at"]
    status = await engine.status()
    assert status["ends_at"] == result["ends_at"] and status["end_restore"] == "keep"
    assert await engine.fire_timers() == {}  # not yet
    later = utcnow() + timedelta(hours=3)
    twins = [_engine(db, fake) for _ in range(3)]
    fired = await asyncio.gather(*(e.fire_timers(later) for e in twins))
    assert sum("ended" in f for f in fired) == 1
    assert await _resumes(db) == 1
    status = await engine.status()
    assert status["paused"] is False and status["ends_at"] is None
    last = status["last_operation"]
    assert last["kind"] == "resume" and last["restore"] == "keep"
    assert last["requested_by"] == "timer (set by em@example.org)"
    assert await engine.fire_timers(later) == {}  # nothing fires twice


async def test_the_end_can_be_extended_shortened_and_cancelled(db, fake):
    engine = _engine(db, fake)
    with pytest.raises(ValueError, match="not paused"):
        await engine.set_pause_end("1h", by="em")
    await engine.pause("storm", by="em", until="1h")
    extended = await engine.set_pause_end("5h", by="lead")
    assert extended is not None
    assert await engine.fire_timers(utcnow() + timedelta(hours=2)) == {}  # extended past it
    await engine.set_pause_end(None, by="lead")
    assert (await engine.status())["ends_at"] is None
    assert await engine.fire_timers(utcnow() + timedelta(days=10)) == {}  # cancelled
    # Pressing pause with --until while paused changes the end too.
    again = await engine.pause("storm", by="em", until="30m")
    assert again["already_paused"] and again["ends_at"]
    assert "ended" in await engine.fire_timers(utcnow() + timedelta(hours=1))
    with pytest.raises(InvalidParameter):
        await engine.pause("x", by="em", until="yesterday")
    async with db.sessions() as session:
        actions = list(await session.scalars(select(AuditEvent.action)))
    assert actions.count("pause.end_set") == 3 and "pause.end_cancelled" in actions


async def test_a_scheduled_pause_starts_once_by_itself(db, fake):
    engine = _engine(db, fake)
    starts = await engine.schedule_pause("1h", "planned outage", by="em", until="2h")
    assert (await engine.status())["starts_at"] is not None
    assert await engine.fire_timers() == {}
    at = starts + timedelta(seconds=1)
    fired = await asyncio.gather(*(_engine(db, fake).fire_timers(at) for _ in range(3)))
    assert sum("started" in f for f in fired) == 1
    status = await engine.status()
    assert status["paused"] and status["by"] == "timer (set by em)" and status["moved"] == 6
    assert status["ends_at"] is not None  # 2h from the start


async def test_the_in_process_queue_fires_timers_from_the_database(db, fake):
    """SQLite's path: a timer set before this 'process' started is found in the row (a
    restart), and one deferred with its moment fires at it."""
    engine = _engine(db, fake)
    await engine.pause("storm", by="em", until="2s")

    class Handlers:
        async def run_operation(self, organization_id: str, operation_id: int) -> None: ...
        async def sweep(self, organization_id: str) -> None: ...
        async def paused_organizations(self) -> list[str]:
            return []

        async def fire_timers(self, organization_id: str) -> None:
            await _engine(db, fake).fire_timers()

        async def due_timers(self) -> list[str]:
            status = await engine.status()
            due = status["ends_at"] and status["ends_at"] <= utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
            return ["org-1"] if due else []

    queue = InProcessQueue(Handlers(), JobSettings(timer_check_interval=1))
    await queue.start()  # a fresh process: nothing deferred, the row holds the timer
    try:
        for _ in range(100):
            if not (await engine.status())["paused"]:
                break
            await asyncio.sleep(0.1)
        assert (await engine.status())["paused"] is False
        assert await _resumes(db) == 1
        # A timer deferred with its moment fires then.
        await engine.pause("again", by="em", until="1s")
        ends = (await engine.status())["ends_at"]
        assert ends
        from empause.domain.timeutil import parse_time
        await queue.defer_timer("org-1", parse_time(ends))
        for _ in range(100):
            if not (await engine.status())["paused"]:
                break
            await asyncio.sleep(0.1)
        assert (await engine.status())["paused"] is False and await _resumes(db) == 2
    finally:
        await queue.stop()
