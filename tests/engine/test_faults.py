"""Under faults: an ambiguous create never makes a second copy; a permanent failure stays
visible (status, review list) with the original restorable, never silently dropped."""

from __future__ import annotations

from empause.domain.timeutil import parse_time
from empause.sandbox.seed import THREADS_PROFILE_ID

from .conftest import WEEK, copies_of, in_window, live, state


async def test_lost_responses_and_timeouts_never_duplicate(engine, fast_sandbox):
    before = state(fast_sandbox)
    fast_sandbox.control.faults(
        lost_response_rate=0.2, timeout_rate=0.05, hang_seconds=0.2, error_rate=0.05
    )
    summary = await engine.pause("storm", by="tester")
    fast_sandbox.control.faults(lost_response_rate=0, timeout_rate=0, error_rate=0)
    start, end = parse_time(summary["window_start"]), parse_time(summary["window_end"])
    expected = in_window(before, start, end)
    after = state(fast_sandbox)
    assert summary["moved"] == len(expected) and summary["failed"] == 0
    for original in expected.values():
        when = parse_time(original["scheduledSendTime"]) + WEEK
        assert len(copies_of(after, original, when)) == 1, original["id"]
    assert len(live(after)) == len(live(before))
    assert after["calls"].get("POST /v1/messages", 0) > len(expected)  # some were repeated

    resumed = await engine.resume("original", by="tester")
    assert resumed["failed"] == 0
    final = state(fast_sandbox)
    for original in expected.values():
        assert len(copies_of(final, original, parse_time(original["scheduledSendTime"]))) == 1
    assert len(live(final)) == len(live(before))


async def test_permanent_failure_is_visible_and_restorable(engine, fast_sandbox):
    before = state(fast_sandbox)
    world = fast_sandbox.world
    removed = {}

    def disconnect_profile(done: int, total: int, phase: str) -> None:
        # The Threads profile is disconnected between the deletes and the re-creations.
        if phase == "re-creating" and not removed:
            removed["profile"] = world.profiles.pop(THREADS_PROFILE_ID)

    summary = await engine.pause("storm", by="tester", progress=disconnect_profile)
    start, end = parse_time(summary["window_start"]), parse_time(summary["window_end"])
    expected = in_window(before, start, end)
    on_threads = [m for m in expected.values() if m["socialProfile"]["id"] == THREADS_PROFILE_ID]
    assert on_threads
    assert summary["status"] == "failed"
    assert summary["failed"] == len(on_threads)
    assert summary["moved"] == len(expected) - len(on_threads)
    status = await engine.status()
    assert status["failed"] == len(on_threads)
    failed = {item["message_id"] for item in status["review"] if item["step"] == "failed"}
    assert failed == {m["id"] for m in on_threads}

    world.profiles[THREADS_PROFILE_ID] = removed["profile"]  # reconnected
    resumed = await engine.resume("original", by="tester")
    assert resumed["failed"] == 0
    final = state(fast_sandbox)
    for original in expected.values():
        when = parse_time(original["scheduledSendTime"])
        assert len(copies_of(final, original, when)) == 1, original["id"]
    assert len(live(final)) == len(live(before))
