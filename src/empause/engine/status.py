"""What the CLI's `status --json` and the web dashboard show, read from the database only.

Live progress is the Operation row and its journal counts by step, which the engine keeps
up to date while it works, so any process sharing the database can show it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.model import OperationKind, Step
from empause.domain.timeutil import format_time
from empause.engine import journal
from empause.engine.results import OperationSummary, ReviewItem, Status
from empause.store.models import JournalEntry, Operation, Organization

REVIEW_LIMIT = 500


def _time(value: Any) -> str | None:
    return format_time(value) if value is not None else None


def _seconds(start: Any, end: Any) -> float | None:
    return round((end - start).total_seconds(), 3) if start and end else None


async def operation_summary(session: AsyncSession, op: Operation) -> OperationSummary:
    """One operation: counts by step, time to safety, total time, API calls used."""
    steps = await journal.counts_by_step(session, op.id)
    if op.kind == OperationKind.RESUME.value:
        moved = steps.get(Step.RESTORED.value, 0)
    else:
        moved = steps.get(Step.CREATED.value, 0) + steps.get(Step.HELD.value, 0)
    return {
        "operation_id": op.id,
        "kind": op.kind,
        "status": op.status,
        "strategy": op.strategy,
        "restore": op.restore,
        "requested_by": op.requested_by,
        "reason": op.reason,
        "horizon_seconds": op.horizon_s,
        "shift_seconds": op.shift_s,
        "window_start": _time(op.window_start),
        "window_end": _time(op.window_end),
        "listed": op.listed,
        "in_scope": op.in_scope if op.kind == OperationKind.PAUSE.value else sum(steps.values()),
        "moved": moved,
        "failed": steps.get(Step.FAILED.value, 0),
        "skipped": steps.get(Step.SKIPPED.value, 0),
        "kept": steps.get(Step.KEPT.value, 0),
        "steps": steps,
        "api_calls": op.api_calls,
        "started_at": _time(op.started_at),
        "safe_at": _time(op.safe_at),
        "finished_at": _time(op.finished_at),
        "seconds_to_safety": _seconds(op.started_at, op.safe_at),
        "total_seconds": _seconds(op.started_at, op.finished_at),
        "error": op.error,
    }


def _review_item(entry: JournalEntry, kind: str) -> ReviewItem:
    if entry.step == Step.FAILED.value:
        why = f"failed: {entry.last_error or 'unknown error'}"
    elif entry.step == Step.KEPT.value:
        why = "original time has passed: left at its shifted time"
    else:
        why = "original time had passed: re-created at a near-future time"
    return {
        "operation_id": entry.operation_id,
        "operation": kind,
        "message_id": entry.message_id,
        "new_id": entry.new_id,
        "profile_id": entry.profile_id,
        "text": entry.text_excerpt,
        "original_time": _time(entry.original_time),
        "new_time": _time(entry.new_time),
        "step": entry.step,
        "why": why,
    }


async def review_list(session: AsyncSession, operations: list[Operation]) -> list[ReviewItem]:
    """Entries a human should look at: failures, and messages not back at their own time."""
    kinds = {op.id: op.kind for op in operations}
    if not kinds:
        return []
    result = await session.execute(
        select(JournalEntry)
        .where(
            JournalEntry.operation_id.in_(list(kinds)),
            or_(
                JournalEntry.step.in_([Step.FAILED.value, Step.KEPT.value]),
                (JournalEntry.step == Step.RESTORED.value)
                & (JournalEntry.new_time != JournalEntry.original_time),
            ),
        )
        .order_by(JournalEntry.original_time, JournalEntry.id)
        .limit(REVIEW_LIMIT)
    )
    return [_review_item(entry, kinds[entry.operation_id]) for entry in result.scalars()]


async def read_status(session: AsyncSession, organization_id: str) -> Status:
    """Paused or not, by whom and why, the last pause/resume with its figures, what to review."""
    org = await session.get(Organization, str(organization_id))
    last = await journal.latest_operation(session, str(organization_id))
    status: Status = {
        "organization_id": str(organization_id),
        "paused": bool(org and org.paused),
        "reason": org.pause_reason if org and org.paused else None,
        "by": org.paused_by if org and org.paused else None,
        "since": _time(org.paused_since) if org and org.paused else None,
        "strategy": org.pause_strategy if org and org.paused else None,
        "horizon_seconds": org.pause_horizon_s if org and org.paused else None,
        "shift_seconds": org.pause_shift_s if org and org.paused else None,
        "ends_at": _time(org.pause_ends_at) if org and org.paused else None,
        "end_restore": org.pause_end_restore if org and org.paused else None,
        "end_set_by": org.pause_end_by if org and org.paused else None,
        "starts_at": _time(org.pause_starts_at) if org and not org.paused else None,
        "last_operation": None,
        "in_scope": 0,
        "moved": 0,
        "failed": 0,
        "seconds_to_safety": None,
        "total_seconds": None,
        "api_calls": 0,
        "review": [],
    }
    if last is None:
        return status
    summary = await operation_summary(session, last)
    status["last_operation"] = summary
    status["in_scope"] = summary["in_scope"]
    status["moved"] = summary["moved"]
    status["failed"] = summary["failed"]
    status["seconds_to_safety"] = summary["seconds_to_safety"]
    status["total_seconds"] = summary["total_seconds"]
    status["api_calls"] = summary["api_calls"]
    operations = [last]
    if last.kind == OperationKind.RESUME.value:
        pause = await journal.pause_operation_before(session, str(organization_id), last.id)
        if pause is not None:
            operations.append(pause)
    status["review"] = await review_list(session, operations)
    return status
