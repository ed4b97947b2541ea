"""Data access for the engine: organizations, operations, journal entries, audit events.

The journal is the source of truth for recovery: each entry is written with the message's
full JSON before the message is touched upstream, and each step is durable before the next
call that depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.model import (
    Message,
    MessageState,
    OperationKind,
    OperationStatus,
    Step,
    urgency,
)
from empause.domain.organization import OrganizationConfig
from empause.domain.timeutil import utcnow
from empause.store.models import AuditEvent, JournalEntry, Operation, Organization

EXCERPT = 280


@dataclass(slots=True)
class Job:
    """One journal entry in memory, as the executor moves it along."""

    entry_id: int
    message: Message  # the original, full JSON in .raw
    step: Step
    new_id: str | None = None  # PLANNED with new_id: the copy to neutralise (re-push, resume)
    new_time: datetime | None = None
    attempts: int = 0
    failures: int = 0

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return urgency(self.message.scheduled_send_time, self.message.id)


def message_of(entry: JournalEntry) -> Message:
    """The original message rebuilt from its journal entry (the adapter reads `.raw`)."""
    raw = dict(entry.original_json or {})
    return Message(
        id=entry.message_id,
        state=MessageState.SCHEDULED.value,
        scheduled_send_time=entry.original_time,
        profile_id=entry.profile_id,
        text=str(raw.get("text", entry.text_excerpt)),
        author_id=entry.author_id,
        raw=raw,
    )


def job_of(entry: JournalEntry) -> Job:
    return Job(
        entry_id=entry.id,
        message=message_of(entry),
        step=Step(entry.step),
        new_id=entry.new_id,
        new_time=entry.new_time,
        attempts=entry.attempts,
        failures=entry.failures,
    )


async def ensure_organization(session: AsyncSession, config: OrganizationConfig) -> Organization:
    """The organization's row (created on first use, e.g. by tests that build an engine)."""
    org = await session.get(Organization, config.organization_id)
    if org is None:
        org = Organization(
            id=config.organization_id,
            platform=config.platform.value,
            name=config.name,
            emergency_team_id=config.emergency_team_id,
            paused=False,
            settings={},
        )
        session.add(org)
        await session.flush()
    return org


async def lock_organization(session: AsyncSession, organization_id: str) -> Organization | None:
    """Re-read the organization row, locked for update where the database supports it."""
    result = await session.execute(
        select(Organization)
        .where(Organization.id == organization_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def unfinished_operations(session: AsyncSession, organization_id: str) -> list[Operation]:
    result = await session.execute(
        select(Operation)
        .where(
            Operation.organization_id == organization_id,
            Operation.status == OperationStatus.RUNNING.value,
        )
        .order_by(Operation.id)
    )
    return list(result.scalars())


async def latest_operation(
    session: AsyncSession, organization_id: str, kinds: tuple[str, ...] = ("pause", "resume")
) -> Operation | None:
    result = await session.execute(
        select(Operation)
        .where(Operation.organization_id == organization_id, Operation.kind.in_(kinds))
        .order_by(Operation.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def pause_operation_before(
    session: AsyncSession, organization_id: str, before_id: int | None = None
) -> Operation | None:
    """The pause a resume undoes: the latest pause operation (before `before_id`)."""
    query = select(Operation).where(
        Operation.organization_id == organization_id,
        Operation.kind == OperationKind.PAUSE.value,
    )
    if before_id is not None:
        query = query.where(Operation.id < before_id)
    result = await session.execute(query.order_by(Operation.id.desc()).limit(1))
    return result.scalar_one_or_none()


def entry_for(operation: Operation, message: Message, step: Step = Step.PLANNED) -> JournalEntry:
    return JournalEntry(
        operation_id=operation.id,
        organization_id=operation.organization_id,
        message_id=message.id,
        profile_id=message.profile_id,
        author_id=message.author_id,
        text_excerpt=message.text[:EXCERPT],
        original_time=message.scheduled_send_time,
        step=step.value,
        attempts=0,
        original_json=message.raw or {"id": message.id},
    )


async def journal_messages(
    session: AsyncSession, operation: Operation, messages: list[Message]
) -> list[Job]:
    """Record messages (PLANNED) not yet in this operation's journal; returns their jobs."""
    if not messages:
        return []
    ids = [m.id for m in messages]
    known = set(
        (
            await session.execute(
                select(JournalEntry.message_id).where(
                    JournalEntry.operation_id == operation.id, JournalEntry.message_id.in_(ids)
                )
            )
        ).scalars()
    )
    fresh = [m for m in messages if m.id not in known]
    entries = [entry_for(operation, m) for m in fresh]
    session.add_all(entries)
    await session.flush()
    return [
        Job(entry_id=e.id, message=m, step=Step.PLANNED)
        for e, m in zip(entries, fresh, strict=True)
    ]


async def entries(
    session: AsyncSession, operation_id: int, steps: tuple[Step, ...] | None = None
) -> list[JournalEntry]:
    query = select(JournalEntry).where(JournalEntry.operation_id == operation_id)
    if steps is not None:
        query = query.where(JournalEntry.step.in_([s.value for s in steps]))
    result = await session.execute(query.order_by(JournalEntry.original_time, JournalEntry.id))
    return list(result.scalars())


async def claimed_ids(session: AsyncSession, organization_id: str) -> set[str]:
    """Every copy id any journal entry of the organization has claimed."""
    result = await session.execute(
        select(JournalEntry.new_id).where(
            JournalEntry.organization_id == organization_id, JournalEntry.new_id.is_not(None)
        )
    )
    return {row for row in result.scalars() if row}


async def counts_by_step(session: AsyncSession, operation_id: int) -> dict[str, int]:
    result = await session.execute(
        select(JournalEntry.step, func.count())
        .where(JournalEntry.operation_id == operation_id)
        .group_by(JournalEntry.step)
    )
    return {step: count for step, count in result.all()}


def audit(
    session: AsyncSession, organization_id: str, actor: str, action: str, **detail: Any
) -> None:
    session.add(
        AuditEvent(
            organization_id=organization_id,
            at=utcnow(),
            actor=actor or "system",
            action=action,
            detail=detail,
        )
    )
