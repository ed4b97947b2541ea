"""Writing prescreening decisions: one row per message (latest decision) plus an audit event.

The row keeps the message's full JSON as the platform returned it, so a held message can be
reviewed (and released) without trusting anything the webhook said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.model import Message, PrescreenDecision
from empause.store.models import AuditEvent, Organization, Prescreening

ACTOR = "prescreening"


@dataclass(frozen=True, slots=True)
class PauseState:
    paused: bool
    horizon: timedelta


async def pause_state(
    session: AsyncSession, organization_id: str, default_horizon: timedelta
) -> PauseState:
    """Read now, never cached: the pause button must take effect on the very next event."""
    org = await session.get(Organization, organization_id, populate_existing=True)
    if org is None or not org.paused:
        return PauseState(False, default_horizon)
    horizon = timedelta(seconds=org.pause_horizon_s) if org.pause_horizon_s else default_horizon
    return PauseState(True, horizon)


async def save_decision(
    session: AsyncSession,
    organization_id: str,
    message: Message,
    decision: PrescreenDecision,
    reason: str,
) -> Prescreening:
    """Upsert the message's row and add an audit event; the caller commits."""
    now = datetime.now(UTC)
    row = await session.scalar(
        select(Prescreening).where(
            Prescreening.organization_id == organization_id, Prescreening.message_id == message.id
        )
    )
    if row is None:
        row = Prescreening(organization_id=organization_id, message_id=message.id)
        session.add(row)
    row.author_id = message.author_id
    row.decision = decision.value
    row.reason = reason
    row.scheduled_send_time = message.scheduled_send_time
    row.sequence_number = message.sequence_number
    row.message_json = message.raw
    row.decided_at = now
    session.add(
        AuditEvent(
            organization_id=organization_id,
            at=now,
            actor=ACTOR,
            action=f"prescreen.{decision.value}",
            detail={
                "message_id": message.id,
                "author_id": message.author_id,
                "reason": reason,
                "scheduled_send_time": message.scheduled_send_time.isoformat(),
                "sequence_number": message.sequence_number,
            },
        )
    )
    return row


def audit(session: AsyncSession, organization_id: str, action: str, **detail: object) -> None:
    """An audit event for what is not a decision row (e.g. enforcement handed to the engine)."""
    session.add(
        AuditEvent(organization_id=organization_id, actor=ACTOR, action=action, detail=detail)
    )
