"""Executing a resume: put moved messages back, with the pause's journal discipline.

`original`: a shifted copy whose original time is still comfortably ahead is neutralised and
re-created at the original time (RESTORED); one whose time has passed stays where it is
(KEPT, listed for review). `keep`: shifted copies stay where they are.

Held messages (hold strategy), and shifted messages whose copy could not be created, exist
only in our journal, so they are re-created under either choice: at the original time when
it is still ahead, otherwise `REVIEW_DELAY` from now, listed for review, so a human can
delete a post that is no longer appropriate before it goes out, rather than losing it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.model import Restore, Step, restore_time
from empause.domain.timeutil import utcnow
from empause.engine import journal
from empause.engine.context import Context
from empause.engine.executor import Executor, Progress, run_jobs
from empause.engine.journal import Job
from empause.engine.pausing import OperationCounters, finish, recording_errors
from empause.engine.writer import JournalWriter
from empause.store.models import JournalEntry, Operation

RESTORE_MARGIN = timedelta(minutes=2)  # closer than this to its time: not worth the risk
REVIEW_DELAY = timedelta(minutes=15)  # a held post whose time passed: due this far ahead


def _resume_entry(resume: Operation, source: JournalEntry, step: Step) -> JournalEntry:
    """The resume's entry for a pause's entry: the same original message, fresh progress."""
    return journal.entry_for(resume, journal.message_of(source), step)


async def plan_resume(
    session: AsyncSession,
    pause: Operation | None,
    resume: Operation,
    restore: Restore,
    now: datetime,
) -> int:
    """Journal what the resume will do, in the transaction that lifts the pause."""
    if pause is None:
        return 0
    planned = 0
    for source in await journal.entries(session, pause.id):
        step = Step(source.step)
        original_gone = step is Step.HELD or (
            step is Step.FAILED and source.new_time is not None and not source.new_id
        )
        if step is Step.CREATED and restore is Restore.ORIGINAL:
            entry = _resume_entry(resume, source, Step.PLANNED)
            entry.new_id = source.new_id  # the copy to neutralise first
            back = restore_time(source.original_time, now, RESTORE_MARGIN)
            if back is None:
                entry.step = Step.KEPT.value
                entry.new_time = source.new_time
            else:
                entry.new_time = back
        elif original_gone:
            entry = _resume_entry(resume, source, Step.NEUTRALISED)
            entry.new_time = restore_time(source.original_time, now, RESTORE_MARGIN) or (
                now + REVIEW_DELAY
            )
        else:
            continue
        session.add(entry)
        planned += 1
    await session.flush()
    return planned


async def execute_resume(ctx: Context, op_id: int, progress: Progress | None = None) -> None:
    """Run (or continue) a resume: neutralise copies, then re-create at the planned times."""
    async with ctx.db.sessions() as session:
        op = await session.get(Operation, op_id)
        assert op is not None
        jobs: list[Job] = [
            journal.job_of(e)
            for e in await journal.entries(session, op.id, (Step.PLANNED, Step.NEUTRALISED))
        ]
        claimed = await journal.claimed_ids(session, op.organization_id)
    counters = OperationCounters(ctx, op)
    async with (
        recording_errors(ctx, op.id),
        JournalWriter(ctx.db, op.id, counters.fields) as writer,
    ):
        executor = Executor(ctx.platform, writer, claimed, progress)
        planned = [j for j in jobs if j.step is Step.PLANNED]
        if ctx.platform.capabilities.moves_in_place:
            for job in planned:  # the moved item itself goes back: nothing to take down first
                job.step = Step.NEUTRALISED
        else:
            executor.start_phase("neutralising copies", len(planned))
            await run_jobs(
                planned, lambda j: executor.neutralise(j, Step.NEUTRALISED), ctx.concurrency
            )
            await writer.flush()
        if op.safe_at is None:
            counters.extra["safe_at"] = utcnow()
        # Every job's new_time is its planned restore time (set by plan_resume).
        moving = [j for j in jobs if j.step is Step.NEUTRALISED]
        executor.start_phase("restoring", len(moving))

        async def create(job: Job) -> None:
            when = job.new_time
            assert when is not None
            await executor.create(job, when, Step.RESTORED)

        await run_jobs(moving, create, ctx.concurrency)
    await finish(ctx, op.id)
