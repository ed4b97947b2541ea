"""Pause and resume requests: validated once, for the dashboard and the JSON API alike."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain import validation
from empause.domain.model import Restore, Strategy
from empause.web import queries
from empause.web.tenants import Tenant


class PauseRequest(BaseModel):
    """What pressing pause needs: a reason (shown in the banner); the rest has defaults.
    Each field is checked by the domain's one validator for pause parameters."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=validation.REASON_MAX * 2)
    strategy: Strategy | None = None
    horizon: timedelta | str | float | None = None
    shift: timedelta | str | float | None = None

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: object) -> str:
        return validation.reason(value)

    @field_validator("strategy", mode="before")
    @classmethod
    def _strategy(cls, value: object) -> Strategy | None:
        return validation.strategy(value)

    @field_validator("horizon", mode="before")
    @classmethod
    def _horizon(cls, value: object) -> timedelta | None:
        return validation.duration(value, "horizon", validation.MAX_HORIZON)

    @field_validator("shift", mode="before")
    @classmethod
    def _shift(cls, value: object) -> timedelta | None:
        return validation.duration(value, "shift", validation.MAX_SHIFT)


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    restore: Restore = Restore.ORIGINAL


def _seconds(value: object) -> float | None:
    return value.total_seconds() if isinstance(value, timedelta) else None


def start_pause(
    tenant: Tenant, session: AsyncSession, body: PauseRequest, by: str, source: str
) -> None:
    """Audit the request, then hand the work to the background runner (returns at once)."""
    queries.audit(
        session,
        tenant.organization_id,
        by,
        "pause.requested",
        reason=body.reason,
        strategy=body.strategy.value if body.strategy else None,
        horizon_s=_seconds(body.horizon),
        shift_s=_seconds(body.shift),
        source=source,
    )
    tenant.runner.pause(
        source=source,
        reason=body.reason,
        by=by,
        strategy=body.strategy,
        horizon=body.horizon,
        shift=body.shift,
    )


def start_resume(
    tenant: Tenant, session: AsyncSession, body: ResumeRequest, by: str, source: str
) -> None:
    queries.audit(
        session,
        tenant.organization_id,
        by,
        "resume.requested",
        restore=body.restore.value,
        source=source,
    )
    tenant.runner.resume(source=source, restore=body.restore.value, by=by)
