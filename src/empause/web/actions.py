"""Pause and resume requests: validated once, for the dashboard and the JSON API alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.model import Restore, Strategy
from empause.domain.timeutil import parse_duration
from empause.web import queries

MAX_HORIZON = timedelta(days=90)
MAX_SHIFT = timedelta(days=365)


def _duration(value: object, most: timedelta, name: str) -> timedelta | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a duration such as 7d, 12h or 30m")
    try:
        parsed = parse_duration(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be a duration such as 7d, 12h or 30m") from exc
    if parsed <= timedelta(0) or parsed > most:
        raise ValueError(f"{name} must be more than 0 and at most {most.days} days")
    return parsed


class PauseRequest(BaseModel):
    """What pressing pause needs: a reason (shown in the banner); the rest has defaults."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500)
    strategy: Strategy | None = None
    horizon: timedelta | None = None
    shift: timedelta | None = None

    @field_validator("horizon", mode="before")
    @classmethod
    def _horizon(cls, value: object) -> timedelta | None:
        return _duration(value, MAX_HORIZON, "horizon")

    @field_validator("shift", mode="before")
    @classmethod
    def _shift(cls, value: object) -> timedelta | None:
        return _duration(value, MAX_SHIFT, "shift")


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    restore: Restore = Restore.ORIGINAL


def start_pause(
    request_state: Any, session: AsyncSession, body: PauseRequest, by: str, source: str
) -> None:
    """Audit the request, then hand the work to the background runner (returns at once)."""
    settings = request_state.settings
    queries.audit(
        session,
        settings.organization_id,
        by,
        "pause.requested",
        reason=body.reason,
        strategy=body.strategy.value if body.strategy else None,
        horizon_s=body.horizon.total_seconds() if body.horizon else None,
        shift_s=body.shift.total_seconds() if body.shift else None,
        source=source,
    )
    request_state.runner.pause(
        source=source,
        reason=body.reason,
        by=by,
        strategy=body.strategy,
        horizon=body.horizon,
        shift=body.shift,
    )


def start_resume(
    request_state: Any, session: AsyncSession, body: ResumeRequest, by: str, source: str
) -> None:
    settings = request_state.settings
    queries.audit(
        session,
        settings.organization_id,
        by,
        "resume.requested",
        restore=body.restore.value,
        source=source,
    )
    request_state.runner.resume(source=source, restore=body.restore.value, by=by)
