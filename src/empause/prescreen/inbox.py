"""The durable webhook inbox: one insert to acknowledge, rows the worker claims later.

Duplicates (same message id, state and seq_no, as Hootsuite retries deliver) are dropped
by the unique constraint in the same statement, so acknowledging stays one round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from empause.prescreen.events import MESSAGES, MessageEvent
from empause.store.db import Database
from empause.store.models import InboxEvent

PENDING = "pending"
DONE = "done"
FAILED = "failed"

_KEY = ["message_id", "state", "seq_no"]


def _insert(dialect: str) -> Callable[..., Any]:
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database dialect for the inbox: {dialect}")


async def record(db: Database, events: list[MessageEvent]) -> None:
    """Store the events (duplicates ignored) in one INSERT and commit: then we may answer 200."""
    if not events:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "received_at": now,
            "event_type": MESSAGES,
            "organization_id": e.organization_id,
            "message_id": e.message_id,
            "state": e.state,
            "seq_no": e.seq_no,
            "payload": e.payload,
            "status": PENDING,
            "attempts": 0,
        }
        for e in events
    ]
    insert = _insert(db.engine.dialect.name)
    statement = insert(InboxEvent).values(rows).on_conflict_do_nothing(index_elements=_KEY)
    async with db.sessions() as session:
        await session.execute(statement)
        await session.commit()


async def pending(db: Database, limit: int, exclude: set[int] | None = None) -> list[InboxEvent]:
    """The oldest pending rows, in arrival order, skipping ids already in hand."""
    query = select(InboxEvent).where(InboxEvent.status == PENDING)
    if exclude:
        query = query.where(InboxEvent.id.not_in(exclude))
    async with db.sessions() as session:
        result = await session.execute(query.order_by(InboxEvent.id).limit(limit))
        return list(result.scalars())


async def finish(
    db: Database, event_id: int, status: str, error: str | None = None, *, count: bool = True
) -> None:
    """Close the row; `count=False` when the failed attempt was already counted."""
    attempts = InboxEvent.attempts + 1 if count else InboxEvent.attempts
    async with db.sessions() as session:
        await session.execute(
            update(InboxEvent)
            .where(InboxEvent.id == event_id)
            .values(status=status, attempts=attempts, processed_at=datetime.now(UTC), error=error)
        )
        await session.commit()


async def retry_later(db: Database, event_id: int, error: str) -> int:
    """Count a failed attempt, keep the row pending; returns the attempts so far."""
    async with db.sessions() as session:
        await session.execute(
            update(InboxEvent)
            .where(InboxEvent.id == event_id)
            .values(attempts=InboxEvent.attempts + 1, error=error)
        )
        await session.commit()
        attempts = await session.scalar(
            select(InboxEvent.attempts).where(InboxEvent.id == event_id)
        )
        return int(attempts or 0)


async def counts(db: Database) -> dict[str, int]:
    """Rows by status: for health pages, tests and the benchmark."""
    async with db.sessions() as session:
        result = await session.execute(
            select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
        )
        return {status: int(n) for status, n in result.all()}
