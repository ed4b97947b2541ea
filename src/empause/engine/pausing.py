"""Executing a pause: list -> journal -> neutralise (soonest first) -> re-create.

Pipelined for time to safety: each page is journaled and queued the moment it arrives
(pages come soonest-first), while workers already neutralise the most urgent queued message.
Every neutralisation finishes before the first re-creation. Restartable from the journal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.model import OperationStatus, Step, Strategy, shifted_time
from empause.domain.timeutil import utcnow
from empause.engine import journal
from empause.engine.context import Context
from empause.engine.executor import (
    TRANSIENT_BACKOFF,
    Executor,
    Progress,
    UpstreamUnavailable,
    run_jobs,
    run_pool,
    stop_workers,
    unwrap,
)
from empause.engine.journal import Job
from empause.engine.writer import JournalWriter
from empause.platforms.port import Ambiguous, Transient
from empause.store.models import Operation

log = logging.getLogger(__name__)


class OperationCounters:
    """The Operation row's live figures, written with each group commit."""

    def __init__(self, ctx: Context, op: Operation):
        self.ctx = ctx
        self.base_calls = op.api_calls
        self.start_calls = ctx.api_calls()
        self.extra: dict[str, Any] = {}

    def api_calls(self) -> int:
        return self.base_calls + self.ctx.api_calls() - self.start_calls

    def fields(self) -> dict[str, Any]:
        fields = {"api_calls": self.api_calls(), **self.extra}
        self.extra = {}
        return fields


def make_safe(
    ctx: Context, executor: Executor, strategy: Strategy, shift: timedelta, not_before: datetime
) -> tuple[str, Callable[[Job], Awaitable[None]]]:
    """What makes one PLANNED job safe, and the phase's name: a platform that moves items in
    place shifts each with one call (PLANNED -> CREATED, same id); otherwise neutralise now
    (-> NEUTRALISED, or HELD) and, for a shift, re-create once every item is safe."""
    if strategy is Strategy.SHIFT and ctx.platform.capabilities.moves_in_place:

        async def move(job: Job) -> None:
            when = shifted_time(job.message.scheduled_send_time, shift, not_before)
            await executor.create(job, when, Step.CREATED)

        return "moving", move
    after = Step.HELD if strategy is Strategy.HOLD else Step.NEUTRALISED
    return "neutralising", lambda job: executor.neutralise(job, after)


async def neutralise_and_move(
    ctx: Context,
    executor: Executor,
    jobs: list[Job],
    strategy: Strategy,
    shift: timedelta,
    not_before: datetime,
) -> None:
    """Make every PLANNED job safe, then (shift) re-create every NEUTRALISED one."""
    planned = [j for j in jobs if j.step is Step.PLANNED]
    phase, handle = make_safe(ctx, executor, strategy, shift, not_before)
    executor.start_phase(phase, len(planned))
    await run_jobs(planned, handle, ctx.concurrency)
    await executor.writer.flush()
    if strategy is Strategy.SHIFT:
        await recreate(
            ctx, executor, [j for j in jobs if j.step is Step.NEUTRALISED], shift, not_before
        )


async def recreate(
    ctx: Context, executor: Executor, jobs: list[Job], shift: timedelta, not_before: datetime
) -> None:
    executor.start_phase("re-creating", len(jobs))

    async def create(job: Job) -> None:
        when = shifted_time(job.message.scheduled_send_time, shift, not_before)
        await executor.create(job, when, Step.CREATED)

    await run_jobs(jobs, create, ctx.concurrency)


async def execute_pause(ctx: Context, op_id: int, progress: Progress | None = None) -> None:
    """Run (or continue) a pause operation until every entry is in a terminal step."""
    async with ctx.db.sessions() as session:
        op = await session.get(Operation, op_id)
        assert op is not None
        pending = [
            journal.job_of(e)
            for e in await journal.entries(session, op.id, (Step.PLANNED, Step.NEUTRALISED))
        ]
        claimed = await journal.claimed_ids(session, op.organization_id)
    strategy = Strategy(op.strategy or Strategy.SHIFT.value)
    shift = timedelta(seconds=op.shift_s or 7 * 86400)
    horizon = timedelta(seconds=op.horizon_s or 7 * 86400)
    running = op.status == OperationStatus.RUNNING.value
    # The first run keeps the pause's own window; leftovers of a later enforcement must
    # clear the window as it is now.
    not_before = op.window_end if running and op.window_end else ctx.clock() + horizon
    counters = OperationCounters(ctx, op)
    async with (
        recording_errors(ctx, op.id),
        JournalWriter(ctx.db, op.id, counters.fields) as writer,
    ):
        executor = Executor(ctx.platform, writer, claimed, progress)
        phase, handle = make_safe(ctx, executor, strategy, shift, not_before)
        planned = [j for j in pending if j.step is Step.PLANNED]
        queue: asyncio.PriorityQueue[tuple[object, ...]] = asyncio.PriorityQueue()
        for n, job in enumerate(planned):
            queue.put_nowait((*job.sort_key, n, job))
        executor.start_phase(phase, len(planned))
        listed: list[Job] = []

        async def produce() -> None:
            try:
                if not op.listed:
                    await _list_into(ctx, op, queue, listed, executor, counters)
                    counters.extra["listed"] = True
            finally:
                stop_workers(queue, ctx.concurrency)

        async with asyncio.TaskGroup() as group:
            group.create_task(produce())
            group.create_task(run_pool(queue, handle, ctx.concurrency))
        await writer.flush()
        if op.safe_at is None:
            counters.extra["safe_at"] = utcnow()
            await writer.flush()
        if strategy is Strategy.SHIFT:
            moving = [j for j in (*pending, *listed) if j.step is Step.NEUTRALISED]
            await recreate(ctx, executor, moving, shift, not_before)
    await finish(ctx, op.id)


async def _list_into(
    ctx: Context,
    op: Operation,
    queue: asyncio.PriorityQueue[tuple[object, ...]],
    listed: list[Job],
    executor: Executor,
    counters: OperationCounters,
) -> None:
    """Journal each page as it arrives and hand it to the workers at once."""
    assert op.window_start is not None and op.window_end is not None
    for wait in (*TRANSIENT_BACKOFF, None):
        try:
            async for page in ctx.platform.list_due(op.window_start, op.window_end):
                async with ctx.db.sessions() as session:
                    jobs = await journal.journal_messages(session, op, page)
                    await session.execute(  # in the same transaction as the entries
                        update(Operation)
                        .where(Operation.id == op.id)
                        .values(in_scope=Operation.in_scope + len(jobs))
                    )
                    await session.commit()
                executor.add_total(len(jobs))
                for job in jobs:
                    queue.put_nowait((*job.sort_key, len(listed), job))
                    listed.append(job)
            return
        except (Transient, Ambiguous) as exc:  # listing again is harmless: known ones are skipped
            if wait is None:
                raise UpstreamUnavailable(f"listing scheduled messages: {exc}") from exc
            log.warning("listing failed (%s); listing again in %.1fs", exc, wait)
            await asyncio.sleep(wait)


@asynccontextmanager
async def recording_errors(ctx: Context, op_id: int) -> AsyncIterator[None]:
    """Record an error escaping the block on the operation, then raise it (the first real
    one, out of any task-group exception groups)."""
    try:
        yield
    except Exception as exc:
        error = unwrap(exc)
        await _record_error(ctx, op_id, error)
        if error is exc:
            raise
        raise error from exc


async def _record_error(ctx: Context, op_id: int, error: BaseException) -> None:
    async with ctx.db.sessions() as session:
        op = await session.get(Operation, op_id)
        if op is not None:
            op.error = f"{type(error).__name__}: {error}"[:2000]
            await session.commit()


async def refresh_status(session: AsyncSession, op_id: int) -> dict[str, int]:
    """A finished operation's status from its journal: FAILED while any entry is."""
    op = await session.get(Operation, op_id)
    assert op is not None
    steps = await journal.counts_by_step(session, op.id)
    failed = steps.get(Step.FAILED.value)
    op.status = OperationStatus.FAILED.value if failed else OperationStatus.DONE.value
    return steps


async def finish(ctx: Context, op_id: int) -> dict[str, int]:
    """Mark the operation done (or failed, if entries need a human), with an audit event."""
    async with ctx.db.sessions() as session:
        steps = await refresh_status(session, op_id)
        op = await session.get(Operation, op_id)
        assert op is not None
        first_finish = op.finished_at is None
        op.error = None
        if first_finish:
            op.finished_at = utcnow()
            if op.safe_at is None:
                op.safe_at = op.finished_at
            journal.audit(
                session,
                op.organization_id,
                op.requested_by,
                f"{op.kind}.finished",
                operation_id=op.id,
                status=op.status,
                in_scope=op.in_scope if op.kind == "pause" else sum(steps.values()),
                steps=steps,
                api_calls=op.api_calls,
            )
        await session.commit()
        return steps
