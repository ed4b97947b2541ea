"""The organization's state and the last operation's progress, read from the database.

The engine keeps both up to date as it works, so polling here shows live progress for any
pause, whether the dashboard, the API or the CLI started it.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.model import Step
from empause.engine.status import read_status
from empause.store.models import JournalEntry

STATUS_MAX_AGE = 0.25  # seconds a status read is shared for
SOONEST_SHOWN = 5  # items of a running operation shown as "being made safe"
# The steps of an item a running pause has not finished with yet.
_UNDER_WAY = (Step.PLANNED.value, Step.NEUTRALISED.value)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def jsonable(value: Any) -> Any:
    """Datetimes as ISO strings, recursively (for the API and the event stream)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return _iso(value)


async def current(session: AsyncSession, organization_id: str) -> dict[str, Any]:
    """The engine's status, with the last operation as `operation` plus what the page needs."""
    status = dict(await read_status(session, organization_id))
    operation = status.get("last_operation")
    if isinstance(operation, dict):
        operation = dict(operation)
        operation["id"] = operation.get("operation_id")
        in_scope = int(operation.get("in_scope") or 0)
        handled = sum(
            int(operation.get(key) or 0) for key in ("moved", "failed", "skipped", "kept")
        )
        running = operation.get("status") == "running"
        if in_scope:
            percent = min(100, round(100 * handled / in_scope))
        else:
            percent = 0 if running and not operation.get("listed") else 100
        operation["percent"] = percent
        operation["running"] = running
        operation["phase"] = phase(operation)
        operation["soonest"] = (
            await soonest(session, int(operation["id"])) if running and operation["id"] else []
        )
        status["operation"] = operation
    else:
        status["operation"] = None
    return status


def phase(operation: dict[str, Any]) -> str:
    """In words a person reads at a glance: starting (listing what is due), making safe,
    finishing (everything safe, the rest of the work under way), restoring, or the end state."""
    if operation.get("status") != "running":
        return str(operation.get("status") or "")
    if not operation.get("listed"):
        return "starting"
    if operation.get("kind") == "resume":
        return "restoring"
    return "finishing" if operation.get("safe_at") else "making safe"


async def soonest(session: AsyncSession, operation_id: int) -> list[dict[str, Any]]:
    """The soonest-due items the running operation is still working on (a few, for the page)."""
    rows = await session.scalars(
        select(JournalEntry)
        .where(JournalEntry.operation_id == operation_id, JournalEntry.step.in_(_UNDER_WAY))
        .order_by(JournalEntry.original_time, JournalEntry.id)
        .limit(SOONEST_SHOWN)
    )
    return [
        {
            "message_id": row.message_id,
            "profile_id": row.profile_id,
            "text": row.text_excerpt[:80],
            "original_time": row.original_time,
            "step": row.step,
        }
        for row in rows
    ]


class SharedStatus:
    """One database read of the status per `max_age`, shared by every poller (the API's
    clients, each open dashboard's event stream): a crowd watching a pause must not slow it.
    """

    def __init__(self, db: Any, organization_id: str, max_age: float = STATUS_MAX_AGE):
        self._db = db
        self._organization_id = organization_id
        self._max_age = max_age
        self._value: dict[str, Any] | None = None
        self._read_at = -math.inf
        self._lock = asyncio.Lock()

    async def get(self) -> dict[str, Any]:
        if time.monotonic() - self._read_at > self._max_age:
            async with self._lock:
                if time.monotonic() - self._read_at > self._max_age:
                    async with self._db.sessions() as session:
                        self._value = jsonable(await current(session, self._organization_id))
                    self._read_at = time.monotonic()
        assert self._value is not None
        return self._value


async def snapshot(tenant: Any) -> dict[str, Any]:
    """The organization's shared status plus whether an operation is under way, as JSON."""
    status = await tenant.status.get()
    operation = status.get("operation") or {}
    return {**status, "busy": bool(operation.get("running"))}
