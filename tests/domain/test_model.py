from datetime import UTC, datetime, timedelta

import pytest

from empause.domain.model import (
    Message,
    may_publish_while_paused,
    neutralisation_order,
    restore_time,
    shifted_time,
)
from empause.domain.timeutil import format_time, parse_duration, parse_time, split_window

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def msg(id: str, minutes: int) -> Message:
    return Message(
        id=id,
        state="SCHEDULED",
        scheduled_send_time=NOW + timedelta(minutes=minutes),
        profile_id="p",
    )


def test_shift_lands_outside_the_window():
    week = timedelta(days=7)
    assert shifted_time(NOW + timedelta(hours=1), week, NOW + week) == NOW + week + timedelta(
        hours=1
    )
    # A short shift with a long horizon is applied as many times as needed.
    assert shifted_time(NOW, timedelta(days=1), NOW + week) == NOW + week
    # A message pushed once and approaching the horizon again is pushed once more.
    later = NOW + timedelta(days=14)
    assert shifted_time(NOW + timedelta(days=8), week, later) == NOW + timedelta(days=15)
    with pytest.raises(ValueError):
        shifted_time(NOW, timedelta(0), NOW)


def test_soonest_due_first():
    ordered = neutralisation_order([msg("b", 30), msg("a", 5), msg("c", 30)])
    assert [m.id for m in ordered] == ["a", "b", "c"]


def test_restore_only_when_comfortably_future():
    margin = timedelta(minutes=5)
    assert restore_time(NOW + timedelta(hours=1), NOW, margin) == NOW + timedelta(hours=1)
    assert restore_time(NOW + timedelta(minutes=1), NOW, margin) is None


def test_only_emergency_team_publishes():
    assert may_publish_while_paused({"501006", "7"}, "501006")
    assert not may_publish_while_paused({"7"}, "501006")


def test_durations_and_times():
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration(30) == timedelta(seconds=30)
    with pytest.raises(ValueError):
        parse_duration("soon")
    assert format_time(parse_time("2026-11-23T12:00:00.5+01:00")) == "2026-11-23T11:00:00Z"
    with pytest.raises(ValueError):
        parse_time("2026-11-23T12:00:00")
    windows = split_window(NOW, NOW + timedelta(days=60), timedelta(days=28))
    assert [w[1] - w[0] for w in windows] == [timedelta(days=28)] * 2 + [timedelta(days=4)]
