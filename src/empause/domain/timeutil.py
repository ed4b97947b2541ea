"""Time math in UTC, and the one wire format Hootsuite accepts ('...Z', second precision)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LONGEST_DURATION = timedelta(days=3650)  # beyond any pause; keeps the arithmetic finite
_DURATION_TEXT_MAX = 32


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """'7d', '12h', '30m', '45s', '2w' or a number of seconds; ValueError for anything else,
    including non-finite numbers and durations longer than LONGEST_DURATION."""
    if isinstance(text, timedelta):
        seconds = text.total_seconds()
    elif isinstance(text, int | float) and not isinstance(text, bool):
        try:
            seconds = float(text)
        except OverflowError:  # an int with hundreds of digits
            seconds = math.inf
    else:
        match = _DURATION.match(text) if isinstance(text, str) else None
        if not match or len(str(text)) > _DURATION_TEXT_MAX:
            raise ValueError(f"not a duration: {str(text)[:40]!r} (use e.g. 7d, 12h, 30m, 45s)")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not math.isfinite(seconds) or abs(seconds) > LONGEST_DURATION.total_seconds():
        raise ValueError(f"not a usable duration (at most {LONGEST_DURATION.days} days)")
    return timedelta(seconds=seconds)


def parse_time(text: str) -> datetime:
    """Parse an ISO-8601 time; naive times are refused, since ambiguity moves posts."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time without a timezone: {text!r}")
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """Hootsuite's format: UTC, whole seconds, ending in 'Z'."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_window(
    start: datetime, end: datetime, most: timedelta
) -> list[tuple[datetime, datetime]]:
    """Cut [start, end) into consecutive windows no longer than `most` (Hootsuite: 4 weeks)."""
    windows = []
    while start < end:
        stop = min(start + most, end)
        windows.append((start, stop))
        start = stop
    return windows
