"""Pause: exactly the in-window SCHEDULED messages move, soonest first, every field kept."""

from __future__ import annotations

from datetime import timedelta

from empause.domain.model import shifted_time
from empause.domain.timeutil import parse_time

from .conftest import WEEK, copies_of, in_window, live, messages_by_id, same_fields, state


async def test_pause_moves_exactly_the_window(engine, fast_sandbox):
    before = state(fast_sandbox)
    progress: list[tuple[int, int, str]] = []
    summary = await engine.pause("storm", by="tester", progress=lambda *a: progress.append(a))
    start, end = parse_time(summary["window_start"]), parse_time(summary["window_end"])
    assert end - start == WEEK
    expected = in_window(before, start, end)
    assert expected, "the demo seed has messages in the window"
    after = state(fast_sandbox)
    now = messages_by_id(after)
    assert summary["status"] == "done"
    assert summary["in_scope"] == summary["moved"] == len(expected)
    assert summary["failed"] == 0
    assert summary["seconds_to_safety"] is not None and summary["api_calls"] > 2 * len(expected)
    for message_id, original in expected.items():
        assert now[message_id]["state"] == "DELETED"
        when = shifted_time(parse_time(original["scheduledSendTime"]), WEEK, end)
        assert when == parse_time(original["scheduledSendTime"]) + WEEK
        copies = copies_of(after, original, when)
        assert len(copies) == 1, (message_id, copies)
        assert same_fields(copies[0], original) == []
    # Nothing outside the window was touched; nothing in it is still scheduled.
    for message_id, message in messages_by_id(before).items():
        if message_id not in expected:
            assert now[message_id]["state"] == message["state"]
    assert not in_window(after, start, end)
    assert len(live(after)) == len(live(before))
    assert progress and progress[-1][2] == "re-creating" and progress[-1][0] == progress[-1][1]


async def test_deletes_go_soonest_first(engine, fast_sandbox):
    before = state(fast_sandbox)
    summary = await engine.pause("storm", by="tester")
    start, end = parse_time(summary["window_start"]), parse_time(summary["window_end"])
    expected = in_window(before, start, end)
    after = messages_by_id(state(fast_sandbox))
    deleted_at = {
        mid: next(h["timestamp"] for h in after[mid]["history"] if h["actionType"] == "DELETE")
        for mid in expected
    }
    due = {mid: parse_time(m["scheduledSendTime"]) for mid, m in expected.items()}
    # Workers run concurrently: a message may overtake at most the ones in flight with it.
    slack = engine.ctx.concurrency
    for mid in expected:
        overtaken = [
            other
            for other in expected
            if due[other] < due[mid] and deleted_at[other] > deleted_at[mid]
        ]
        assert len(overtaken) <= slack, (mid, overtaken)
    soonest = min(expected, key=lambda mid: due[mid])
    assert sorted(deleted_at.values()).index(deleted_at[soonest]) <= slack


async def test_hold_strategy_deletes_and_keeps_in_journal(engine, fast_sandbox):
    before = state(fast_sandbox)
    summary = await engine.pause("storm", by="tester", strategy="hold", horizon="3d")
    start, end = parse_time(summary["window_start"]), parse_time(summary["window_end"])
    assert end - start == timedelta(days=3)
    expected = in_window(before, start, end)
    after = state(fast_sandbox)
    assert summary["steps"] == {"held": len(expected)}
    assert all(messages_by_id(after)[mid]["state"] == "DELETED" for mid in expected)
    assert len(live(after)) == len(live(before)) - len(expected)
    assert not in_window(after, start, end)  # nothing left to publish in the window
    assert all(
        copies_of(after, m, parse_time(m["scheduledSendTime"]) + WEEK) == []
        for m in expected.values()
    )  # held: no shifted copy either
