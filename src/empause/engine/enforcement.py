"""Holding the pause: messages that become due inside the window while paused are moved too.

The rule, for a SCHEDULED message due in [now, now + horizon) while paused:
- one of our own copies (a journal entry's new_id): pushed again, so a pause longer than its
  horizon keeps the window clear (the window slides with the clock);
- written by a current emergency-team member (asked of the platform, cached <= 60 s): left;
- anything else (approved in the dashboard, created by another member): moved like the
  pause's own messages, into the pause's journal, so resume restores it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from empause.domain.model import Message, MessageState, Step, Strategy
from empause.domain.timeutil import utcnow
from empause.engine import journal
from empause.engine.context import Context
from empause.engine.executor import Executor
from empause.engine.journal import Job
from empause.engine.pausing import (
    OperationCounters,
    neutralise_and_move,
    recording_errors,
    refresh_status,
)
from empause.engine.results import EnforceCounts, EnforceOutcome
from empause.engine.writer import JournalWriter
from empause.store.models import JournalEntry, Operation, Organization

TEAM_CACHE_SECONDS = 60.0
# A message whose enforcement failed is tried again after these delays (by its failures so
# far), not at every sweep: the fast sweep passes twice a second.
RETRY_BACKOFF = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2),
                 timedelta(minutes=10))  # fmt: skip


# Entries whose item a platform that moves in place can put back in the schedule itself.
_BACK_IN_PLACE = (Step.HELD.value, Step.SKIPPED.value)


def retry_delay(failures: int) -> timedelta:
    """How long after its `failures`-th failure an entry is tried again (0: at once)."""
    return RETRY_BACKOFF[min(failures, len(RETRY_BACKOFF)) - 1] if failures else timedelta(0)


def retry_due(entry: JournalEntry, now: datetime) -> bool:
    return entry.updated_at + retry_delay(entry.failures) <= now


@dataclass
class Decisions:
    moved: list[str] = field(default_factory=list)  # new to the journal
    pushed_again: list[str] = field(default_factory=list)  # our copies, re-pushed
    retried: list[str] = field(default_factory=list)  # failed before, tried again
    allowed: list[str] = field(default_factory=list)  # emergency-team members' posts
    ignored: list[str] = field(default_factory=list)  # out of the window, or handled
    failed: dict[str, str] = field(default_factory=dict)  # message id -> error, this time

    def counts(self) -> EnforceCounts:
        return {
            "moved": len(self.moved),
            "pushed_again": len(self.pushed_again),
            "retried": len(self.retried),
            "allowed": len(self.allowed),
            "ignored": len(self.ignored),
            "failed": len(self.failed),
        }

    def outcome(self, message_id: str) -> EnforceOutcome:
        for name in ("moved", "pushed_again", "retried", "allowed"):
            if message_id in getattr(self, name):
                return EnforceOutcome(name)
        return EnforceOutcome.IGNORED


async def author_may_publish(ctx: Context, author_id: str | None) -> bool:
    """Is the author in the emergency team right now (membership read at most 60 s ago)?"""
    if not author_id:
        return False
    return (await ctx.membership.check(author_id, max_age=TEAM_CACHE_SECONDS)).emergency


async def enforce(
    ctx: Context, org: Organization, pause: Operation, messages: list[Message]
) -> Decisions:
    """Apply the rule to `messages` (as just read from the platform) and move what it says."""
    now = ctx.clock()
    horizon = timedelta(seconds=org.pause_horizon_s or pause.horizon_s or 7 * 86400)
    shift = timedelta(seconds=org.pause_shift_s or pause.shift_s or 7 * 86400)
    strategy = Strategy(org.pause_strategy or pause.strategy or Strategy.SHIFT.value)
    end = now + horizon
    decisions = Decisions()
    async with ctx.db.sessions() as session:
        ids = [m.id for m in messages]
        by_copy: dict[str, JournalEntry] = {}
        by_message: dict[str, JournalEntry] = {}
        result = await session.execute(
            select(JournalEntry).where(
                JournalEntry.operation_id == pause.id,
                (JournalEntry.new_id.in_(ids)) | (JournalEntry.message_id.in_(ids)),
            )
        )
        for entry in result.scalars():
            if entry.new_id in ids:
                by_copy[entry.new_id] = entry
            if entry.message_id in ids:
                by_message[entry.message_id] = entry
        fresh: list[Message] = []
        jobs: list[Job] = []
        for message in messages:
            due = message.scheduled_send_time
            if message.state != MessageState.SCHEDULED.value or not now <= due < end:
                decisions.ignored.append(message.id)
            elif message.id in by_copy or message.id in by_message:
                entry = by_copy.get(message.id) or by_message[message.id]
                if entry.step == Step.FAILED.value and entry.new_time is None:
                    # Its neutralisation failed (the original's, or a pushed-again copy's, which
                    # is as live as the original was): try again, after a growing delay.
                    if not retry_due(entry, utcnow()):
                        decisions.ignored.append(message.id)
                        continue
                    entry.step = Step.PLANNED.value
                    jobs.append(journal.job_of(entry))
                    decisions.retried.append(message.id)
                elif entry.step == Step.CREATED.value and message.id in by_copy:
                    # Durable before the copy is touched: crash -> the copy is neutralised again.
                    entry.step, entry.new_time, entry.attempts = Step.PLANNED.value, None, 0
                    jobs.append(journal.job_of(entry))
                    decisions.pushed_again.append(message.id)
                elif entry.step in _BACK_IN_PLACE and ctx.platform.capabilities.moves_in_place:
                    # Moved in place, a held (or skipped) item keeps its id: scheduled again
                    # while paused (say, approved in the platform's own UI), it goes out again.
                    entry.step, entry.new_time, entry.attempts = Step.PLANNED.value, None, 0
                    jobs.append(journal.job_of(entry))
                    decisions.pushed_again.append(message.id)
                else:
                    decisions.ignored.append(message.id)
            elif await author_may_publish(ctx, message.author_id):
                decisions.allowed.append(message.id)
            else:
                fresh.append(message)
                decisions.moved.append(message.id)
        jobs.extend(await journal.journal_messages(session, pause, fresh))
        if not jobs:
            await session.commit()
            return decisions
        op = await session.get(Operation, pause.id)
        assert op is not None
        op.in_scope += len(fresh)
        claimed = await journal.claimed_ids(session, op.organization_id)
        await session.commit()
    counters = OperationCounters(ctx, op)
    async with (
        recording_errors(ctx, op.id),
        JournalWriter(ctx.db, op.id, counters.fields) as writer,
    ):
        executor = Executor(ctx.platform, writer, claimed)
        await neutralise_and_move(ctx, executor, jobs, strategy, shift, end)
    await _settle_failures(ctx, op.id, jobs, decisions)
    return decisions


async def _settle_failures(
    ctx: Context, op_id: int, jobs: list[Job], decisions: Decisions
) -> None:
    """An alert in the audit log for every failure (retried later, with backoff), a note for
    every earlier failure that now succeeded, and the pause's status to match its journal."""
    failed = {j.message.id: j for j in jobs if j.step is Step.FAILED}
    recovered = [m for m in decisions.retried if m not in failed]
    if not failed and not recovered:
        return
    async with ctx.db.sessions() as session:
        errors = dict(
            (
                await session.execute(
                    select(JournalEntry.message_id, JournalEntry.last_error).where(
                        JournalEntry.operation_id == op_id,
                        JournalEntry.message_id.in_(list(failed)),
                    )
                )
            ).all()
        )
        decisions.failed.update({m: errors.get(m) or "unknown error" for m in failed})
        if failed:
            next_try = {m: retry_delay(j.failures).total_seconds() for m, j in failed.items()}
            journal.audit(
                session, ctx.organization_id, "system", "enforce.failed", alert=True,
                operation_id=op_id, errors=dict(list(decisions.failed.items())[:50]),
                retry_in_seconds=dict(list(next_try.items())[:50]),
            )  # fmt: skip
        if recovered:
            journal.audit(
                session, ctx.organization_id, "system", "enforce.recovered",
                operation_id=op_id, message_ids=recovered[:100],
            )  # fmt: skip
        await refresh_status(session, op_id)
        await session.commit()
