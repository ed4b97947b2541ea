"""Pause and resume requests: validated once, for the dashboard and the JSON API alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain import validation
from empause.domain.model import Restore, Strategy
from empause.domain.timeutil import utcnow
from empause.engine.lock import Busy
from empause.web import metrics, queries
from empause.web.errors import WebError
from empause.web.tenants import Tenant


class PauseRequest(BaseModel):
    """What pressing pause needs: a reason (shown in the banner); the rest has defaults.
    Each field is checked by the domain's one validator for pause parameters."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=validation.REASON_MAX * 2)
    strategy: Strategy | None = None
    horizon: timedelta | str | float | None = None
    shift: timedelta | str | float | None = None
    until: datetime | None = None  # a timed pause: ISO time or a duration from now
    end_restore: Restore = Restore.ORIGINAL  # how a timed pause resumes

    @field_validator("until", mode="before")
    @classmethod
    def _until(cls, value: object) -> datetime | None:
        return validation.moment(value, "until", utcnow())

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


class PauseEndRequest(BaseModel):
    """Extend or shorten (`until`) or cancel (`cancel`) the end of the pause in force."""

    model_config = ConfigDict(extra="forbid")

    until: datetime | None = None
    cancel: bool = False

    @field_validator("until", mode="before")
    @classmethod
    def _until(cls, value: object) -> datetime | None:
        return validation.moment(value, "until", utcnow())


async def change_pause_end(
    tenant: Tenant, session: AsyncSession, body: PauseEndRequest, by: str, source: str
) -> datetime | None:
    """Move or cancel the end; WebError 409 when not paused, 422 when neither is given."""
    if body.cancel == (body.until is not None):
        raise WebError("Give either until (a time or a duration) or cancel.", status=422,
                       title="Invalid parameter")  # fmt: skip
    queries.audit(session, tenant.organization_id, by, "pause.end_requested",
                  until=body.until.isoformat() if body.until else None, source=source)  # fmt: skip
    try:
        ends = await tenant.engine.set_pause_end(body.until, by)
    except ValueError as exc:
        raise WebError(str(exc), status=409, title="Not paused") from exc
    if ends is not None:
        await tenant.queue.defer_timer(tenant.organization_id, ends)
    return ends


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    restore: Restore = Restore.ORIGINAL


def _seconds(value: object) -> float | None:
    return value.total_seconds() if isinstance(value, timedelta) else None


async def start_pause(
    tenant: Tenant, session: AsyncSession, body: PauseRequest, by: str, source: str
) -> int | None:
    """Audit the request, record the pause and hand it to a worker (returns at once, with
    the operation; the caller commits the audit)."""
    queries.audit(
        session,
        tenant.organization_id,
        by,
        "pause.requested",
        reason=body.reason,
        strategy=body.strategy.value if body.strategy else None,
        horizon_s=_seconds(body.horizon),
        shift_s=_seconds(body.shift),
        until=body.until.isoformat() if body.until else None,
        source=source,
    )
    metrics.OPERATIONS.labels("pause", source).inc()
    with _busy_is_a_conflict():
        return await tenant.pause(
            reason=body.reason, by=by, strategy=body.strategy, horizon=body.horizon,
            shift=body.shift, until=body.until, end_restore=body.end_restore,
        )  # fmt: skip


async def start_resume(
    tenant: Tenant, session: AsyncSession, body: ResumeRequest, by: str, source: str
) -> int | None:
    queries.audit(
        session,
        tenant.organization_id,
        by,
        "resume.requested",
        restore=body.restore.value,
        source=source,
    )
    metrics.OPERATIONS.labels("resume", source).inc()
    with _busy_is_a_conflict():
        return await tenant.resume(body.restore.value, by)


@contextmanager
def _busy_is_a_conflict() -> Iterator[None]:
    try:
        yield
    except Busy as exc:
        raise WebError(
            f"{exc} Try again in a moment.", status=409, title="Another request is being recorded"
        ) from exc
