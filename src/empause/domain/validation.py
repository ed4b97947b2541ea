"""The one validator for what a pause needs, with its limits, shared by the CLI, the JSON API
and the dashboard's form (and checked again by the engine).

Pure: every problem is reported with the field it concerns and what would be right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from empause.domain.model import Strategy
from empause.domain.timeutil import parse_duration, parse_time

REASON_MAX = 500  # characters: shown in the banner and the audit log
MAX_HORIZON = timedelta(days=90)
MAX_SHIFT = timedelta(days=365)
MAX_PAUSE_LENGTH = timedelta(days=90)  # how far ahead a timed pause may end (or start)
MAX_ID = 2**31 - 1  # our row ids are 32-bit integers: a larger one names nothing


class InvalidParameter(ValueError):
    """One field is wrong; the message says how to put it right."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class PauseParameters:
    reason: str
    strategy: Strategy | None  # None: the organization's default
    horizon: timedelta | None
    shift: timedelta | None


def reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameter(
            "reason", "say why you are pausing (it is shown to everyone in the banner)"
        )
    text = value.strip()
    if len(text) > REASON_MAX:
        raise InvalidParameter("reason", f"at most {REASON_MAX} characters")
    return text


def strategy(value: object) -> Strategy | None:
    if value is None or value == "":
        return None
    if isinstance(value, Strategy):
        return value
    try:
        return Strategy(str(value))
    except ValueError:
        choices = " or ".join(s.value for s in Strategy)
        raise InvalidParameter("strategy", f"use {choices}") from None


def duration(value: object, field: str, most: timedelta) -> timedelta | None:
    """A positive duration no longer than `most`: '7d', '12h', '30m', '45s', '2w' or seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | timedelta):
        raise InvalidParameter(field, "a duration such as 7d, 12h or 30m")
    try:
        parsed = parse_duration(value)
    except ValueError:
        raise InvalidParameter(field, "a duration such as 7d, 12h or 30m") from None
    if parsed <= timedelta(0) or parsed > most:
        raise InvalidParameter(field, f"more than 0 and at most {most.days} days")
    return parsed


def pause_parameters(
    reason_value: object, strategy_value: object = None, horizon: object = None,
    shift: object = None,
) -> PauseParameters:  # fmt: skip
    return PauseParameters(
        reason=reason(reason_value),
        strategy=strategy(strategy_value),
        horizon=duration(horizon, "horizon", MAX_HORIZON),
        shift=duration(shift, "shift", MAX_SHIFT),
    )


def moment(value: object, field: str, now: datetime) -> datetime | None:
    """A time after `now`, at most MAX_PAUSE_LENGTH ahead: an ISO time with a timezone
    ('2026-12-01T18:00:00Z') or a duration from now ('90m', '2h', '3d')."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str) and len(value) <= 64:
        try:
            when = now + parse_duration(value)
        except ValueError:
            try:
                when = parse_time(value)
            except ValueError:
                raise InvalidParameter(
                    field, "an ISO time with a timezone or a duration such as 90m, 2h or 3d"
                ) from None
    else:
        raise InvalidParameter(field, "an ISO time with a timezone or a duration such as 90m")
    if when.tzinfo is None:
        raise InvalidParameter(field, "a time with a timezone")
    if when <= now or when - now > MAX_PAUSE_LENGTH:
        raise InvalidParameter(field, f"in the future, at most {MAX_PAUSE_LENGTH.days} days ahead")
    return when
