"""Resume (original / keep / hold) and idempotence: pressing twice is harmless."""

from __future__ import annotations

import asyncio

from empause.config import default_organization
from empause.domain.timeutil import parse_time

from .conftest import WEEK, copies_of, in_window, live, messages_by_id, state


async def test_resume_original_puts_everything_back(engine, fast_sandbox):
    before = state(fast_sandbox)
    pause = await engine.pause("storm", by="tester")
    start, end = parse_time(pause["window_start"]), parse_time(pause["window_end"])
    expected = in_window(before, start, end)
    summary = await engine.resume("original", by="tester")
    assert summary["status"] == "done" and summary["paused"] is False
    assert summary["moved"] == len(expected) and summary["failed"] == 0
    after = state(fast_sandbox)
    for original in expected.values():
        when = parse_time(original["scheduledSendTime"])
        assert len(copies_of(after, original, when)) == 1  # back at its own time, once
        assert copies_of(after, original, when + WEEK) == []  # the shifted copy is gone
    assert len(live(after)) == len(live(before))
    status = await engine.status()
    assert status["paused"] is False and status["review"] == []


async def test_resume_keep_only_lifts_the_pause(engine, fast_sandbox):
    before = state(fast_sandbox)
    pause = await engine.pause("storm", by="tester")
    start, end = parse_time(pause["window_start"]), parse_time(pause["window_end"])
    expected = in_window(before, start, end)
    calls = engine.ctx.api_calls()
    summary = await engine.resume("keep", by="tester")
    assert engine.ctx.api_calls() == calls and summary["paused"] is False
    after = state(fast_sandbox)
    for original in expected.values():
        when = parse_time(original["scheduledSendTime"]) + WEEK
        assert len(copies_of(after, original, when)) == 1


async def test_hold_then_resume_recreates_at_original_time(engine, fast_sandbox):
    before = state(fast_sandbox)
    pause = await engine.pause("storm", by="tester", strategy="hold")
    start, end = parse_time(pause["window_start"]), parse_time(pause["window_end"])
    expected = in_window(before, start, end)
    summary = await engine.resume("keep", by="tester")  # held messages come back either way
    assert summary["steps"] == {"restored": len(expected)}
    after = state(fast_sandbox)
    for original in expected.values():
        assert len(copies_of(after, original, parse_time(original["scheduledSendTime"]))) == 1
    assert len(live(after)) == len(live(before))


async def test_pause_twice_and_resume_twice_are_harmless(engine, fast_sandbox):
    first = await engine.pause("storm", by="tester")
    snapshot = messages_by_id(state(fast_sandbox))
    calls = engine.ctx.api_calls()
    second = await engine.pause("storm again", by="someone else")
    assert second["already_paused"] is True and second["operation_id"] == first["operation_id"]
    assert engine.ctx.api_calls() == calls
    assert messages_by_id(state(fast_sandbox)) == snapshot
    status = await engine.status()
    assert status["paused"] and status["reason"] == "storm" and status["by"] == "tester"

    resumed = await engine.resume("original", by="tester")
    snapshot = messages_by_id(state(fast_sandbox))
    calls = engine.ctx.api_calls()
    again = await engine.resume("original", by="tester")
    assert again["not_paused"] is True and again["operation_id"] == resumed["operation_id"]
    assert engine.ctx.api_calls() == calls
    assert messages_by_id(state(fast_sandbox)) == snapshot


async def test_two_engines_pressing_pause_at_once_do_it_once(engine, fast_sandbox, db):
    """Two processes' engines (own platform, own lock handle) share one database."""
    from empause.engine.service import Engine
    from empause.platforms.hootsuite.adapter import HootsuitePlatform
    from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, ORG_ID

    from .conftest import FAST_RATE, sandbox_clock, settings_for

    other_platform = HootsuitePlatform(
        fast_sandbox.base_url, CLIENT_ID, CLIENT_SECRET, ORG_ID, rate_limit=FAST_RATE
    )
    other = Engine(
        db, other_platform, default_organization(settings_for(fast_sandbox, db.url)), clock=sandbox_clock(fast_sandbox)
    )
    try:
        first, second = await asyncio.gather(
            engine.pause("storm", by="a"), other.pause("storm", by="b")
        )
    finally:
        await other_platform.aclose()
    assert sorted([first["already_paused"], second["already_paused"]]) == [False, True]
    assert first["operation_id"] == second["operation_id"]
    after = state(fast_sandbox)
    moved = first["moved"]
    assert (
        moved == first["in_scope"]
        and sum(1 for m in after["messages"] if m["state"] == "DELETED") == moved
    )
