"""The durable webhook inbox: one insert to acknowledge, rows the worker claims later.

Duplicates (same message id, state and seq_no, as Hootsuite retries deliver) are dropped
by the unique constraint in the same statement, so acknowledging stays one round trip.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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

_KEY = ["organization_id", "message_id", "state", "seq_no"]
MAX_FIRST = 500  # message ids looked up first in one query


class WriteGate:
    """Serialises this process's inbox and decision writes, acknowledgements first.

    SQLite has one writer at a time, and a writer that finds the lock taken sleeps in its
    busy handler with growing back-off (up to 100 ms a try): under a burst the worker's
    writes would make acknowledgements wait. Queued here instead, an acknowledgement waits
    for at most the write in progress, never in SQLite's back-off.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._urgent = 0
        self._no_urgent = asyncio.Event()
        self._no_urgent.set()

    @asynccontextmanager
    async def urgent(self) -> AsyncIterator[None]:
        self._urgent += 1
        self._no_urgent.clear()
        try:
            async with self._lock:
                yield
        finally:
            self._urgent -= 1
            if not self._urgent:
                self._no_urgent.set()

    @asynccontextmanager
    async def background(self) -> AsyncIterator[None]:
        while True:
            await self._no_urgent.wait()
            await self._lock.acquire()
            if not self._urgent:
                break
            self._lock.release()  # an acknowledgement arrived meanwhile: let it go first
            await asyncio.sleep(0)
        try:
            yield
        finally:
            self._lock.release()


_gates: weakref.WeakKeyDictionary[Database, WriteGate] = weakref.WeakKeyDictionary()


def gate(db: Database) -> WriteGate:
    """The gate for this database in this process (one event loop per Database)."""
    found = _gates.get(db)
    if found is None:
        found = _gates[db] = WriteGate()
    return found


def _insert(dialect: str) -> Callable[..., Any]:
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database dialect for the inbox: {dialect}")


UNPROTECTED = "organization not protected"


async def record(db: Database, events: list[MessageEvent], protected: set[str]) -> None:
    """Store the events (duplicates ignored) in one INSERT and commit: then we may answer 200.
    Events of organizations not in `protected` are kept for the record, already done."""
    if not events:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "received_at": now,
            "event_type": MESSAGES,
            "organization_id": e.organization_id or "",
            "message_id": e.message_id,
            "state": e.state,
            "seq_no": e.seq_no,
            "payload": e.payload,
            "status": PENDING if e.organization_id in protected else DONE,
            "processed_at": None if e.organization_id in protected else now,
            "error": None if e.organization_id in protected else UNPROTECTED,
            "attempts": 0,
        }
        for e in events
    ]
    insert = _insert(db.engine.dialect.name)
    statement = insert(InboxEvent).values(rows).on_conflict_do_nothing(index_elements=_KEY)
    async with gate(db).urgent(), db.engine.begin() as conn:
        await conn.execute(statement)


async def pending(
    db: Database,
    limit: int,
    exclude: set[int] | None = None,
    first: set[str] | None = None,
    organization_id: str | None = None,
) -> list[InboxEvent]:
    """Pending rows (of one organization, if given) for the messages in `first` (those due
    soonest), then the oldest others in arrival order, up to `limit`, skipping row ids
    already in hand."""
    query = select(InboxEvent).where(InboxEvent.status == PENDING)
    if organization_id is not None:
        query = query.where(InboxEvent.organization_id == organization_id)
    if exclude:
        query = query.where(InboxEvent.id.not_in(exclude))
    async with db.sessions() as session:
        urgent: list[InboxEvent] = []
        if first:
            chosen = query.where(InboxEvent.message_id.in_(list(first)[:MAX_FIRST]))
            found = await session.execute(chosen.order_by(InboxEvent.id).limit(limit))
            urgent = list(found.scalars())
        rest = query.where(InboxEvent.id.not_in([r.id for r in urgent])) if urgent else query
        result = await session.execute(rest.order_by(InboxEvent.id).limit(limit - len(urgent)))
        return urgent + list(result.scalars())


async def fail(db: Database, event_id: int, error: str) -> None:
    """Give up on the row (its last attempt was already counted by retry_later): a human's."""
    async with gate(db).background(), db.sessions() as session:
        await session.execute(
            update(InboxEvent)
            .where(InboxEvent.id == event_id)
            .values(status=FAILED, processed_at=datetime.now(UTC), error=error)
        )
        await session.commit()


async def finish_many(db: Database, event_ids: list[int]) -> None:
    """Mark many rows done in one write (the worker batches its acknowledgements)."""
    if not event_ids:
        return
    async with gate(db).background(), db.sessions() as session:
        await session.execute(
            update(InboxEvent)
            .where(InboxEvent.id.in_(event_ids))
            .values(status=DONE, attempts=InboxEvent.attempts + 1, processed_at=datetime.now(UTC))
        )
        await session.commit()


async def retry_later(db: Database, event_id: int, error: str) -> int:
    """Count a failed attempt, keep the row pending; returns the attempts so far."""
    async with gate(db).background(), db.sessions() as session:
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
