"""Preview (dry run): changes nothing, and counts exactly what a pause started next moves."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from empause.config import Settings, default_organization
from empause.domain.timeutil import parse_time
from empause.engine.service import Engine
from empause.platforms.fake import FakePlatform

from .conftest import in_window, state


async def test_preview_equals_what_the_pause_moves_on_the_sandbox(engine, fast_sandbox):
    before = state(fast_sandbox)
    preview = await engine.preview()
    assert state(fast_sandbox)["messages"] == before["messages"]  # nothing changed
    start, end = parse_time(preview["window_start"]), parse_time(preview["window_end"])
    assert end - start == engine.ctx.org.horizon
    expected = in_window(before, start, end)
    assert preview["messages"] == len(expected) > 0
    assert sum(preview["by_profile"].values()) == sum(preview["by_day"].values()) == len(expected)
    days = Counter(parse_time(m["scheduledSendTime"]).date().isoformat() for m in expected.values())
    assert preview["by_day"] == dict(sorted(days.items()))
    first = min(expected.values(), key=lambda m: (parse_time(m["scheduledSendTime"]), m["id"]))
    assert preview["first_due"][0]["id"] == first["id"]
    pending = [m for m in before["messages"] if m["state"] == "PENDING_APPROVAL"]
    assert preview["pending_approval"] == len(pending)
    assert preview["paused"] is False
    paused = await engine.pause("storm", by="tester")
    assert paused["in_scope"] == paused["moved"] == preview["messages"]


async def test_preview_with_a_horizon_on_the_fake(db):
    fake = FakePlatform()
    for n in range(12):
        fake.add(f"post {n}", timedelta(hours=5 + 11 * n), profile_id=f"p{n % 3}")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db.url, organization_id="org-1", emergency_team_id="team-em",
    )  # fmt: skip
    engine = Engine(db, fake, default_organization(settings), clock=lambda: fake.now)
    preview = await engine.preview("2d")
    assert preview["horizon_seconds"] == 2 * 86400
    assert preview["messages"] == 4  # 5h, 16h, 27h, 38h inside 48h; 49h not
    assert preview["by_profile"] == {"Profile p0": 2, "Profile p1": 1, "Profile p2": 1}
    assert len(fake.published) == 0 and fake.calls.get("neutralise", 0) == 0
    paused = await engine.pause("storm", by="tester", horizon="2d")
    assert paused["in_scope"] == paused["moved"] == preview["messages"]
