"""The organization's state and the last operation's progress, read from the database.

The engine keeps both up to date as it works, so polling here shows live progress for any
pause, whether the dashboard, the API or the CLI started it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from empause.engine.status import read_status


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
        status["operation"] = operation
    else:
        status["operation"] = None
    return status


async def snapshot(session: AsyncSession, app_state: Any) -> dict[str, Any]:
    """`current` plus whether the runner has work queued, as JSON (API and event stream)."""
    state = await current(session, app_state.settings.organization_id)
    state["busy"] = app_state.runner.busy
    return jsonable(state)
