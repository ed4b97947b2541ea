"""The engine's public face, used by the CLI, the web app and the webhook worker.

Every method that changes anything holds the organization's lock (one pause, resume or
sweep at a time, across processes) and first finishes whatever a crashed run left behind.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from empause.domain import validation
from empause.domain.model import (
    Message,
    MessageState,
    OperationKind,
    OperationStatus,
    Restore,
    Step,
    Strategy,
)
from empause.domain.organization import OrganizationConfig
from empause.domain.timeutil import format_time, utcnow
from empause.engine import journal
from empause.engine.context import Context
from empause.engine.enforcement import enforce
from empause.engine.executor import Progress
from empause.engine.lock import Busy, OrganizationLock
from empause.engine.pausing import execute_pause
from empause.engine.preview import preview as preview_window
from empause.engine.results import (
    EnforceOutcome,
    OperationSummary,
    PauseResult,
    ResumeResult,
    Status,
    SweepResult,
)
from empause.engine.resuming import execute_resume, plan_resume
from empause.engine.status import operation_summary, read_status
from empause.platforms.port import Platform
from empause.platforms.priority import urgent
from empause.prescreen.release import release_held
from empause.store.db import Database
from empause.store.models import JournalEntry, Operation, Organization

log = logging.getLogger(__name__)

__all__ = ["Begun", "Busy", "Engine"]

BEGIN_WAIT = 10.0  # seconds a pause waits for another one being recorded


@dataclass(frozen=True, slots=True)
class Begun:
    """A pause as recorded: its operation, or the pause already in force."""

    operation_id: int | None
    already: bool
    ends_at: datetime | None = None  # a timed pause: when its timer fires


TIMER_ACTOR = "timer (set by {})"  # who an automatic start or end is recorded as


def _lift(org: Organization) -> None:
    """Clear the pause flag and everything that describes the pause in force."""
    org.paused = False
    for name in ("pause_reason", "paused_by", "paused_since", "pause_strategy",
                 "pause_horizon_s", "pause_shift_s", "pause_ends_at", "pause_end_restore",
                 "pause_end_by"):  # fmt: skip
        setattr(org, name, None)


class Engine:
    """Pause, resume, enforce and recover one organization on one platform."""

    def __init__(
        self,
        db: Database,
        platform: Platform,
        org: OrganizationConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
        lock_timeout: float = 30.0,
    ):
        self.ctx = Context(db=db, platform=platform, org=org, clock=clock)
        self.lock_timeout = lock_timeout

    @property
    def organization_id(self) -> str:
        return self.ctx.organization_id

    @asynccontextmanager
    async def _lock(self, wait: float | None = None) -> AsyncIterator[None]:
        """The organization's lock; the upstream calls made under it are urgent (they make
        messages safe), so ordinary reads wait for them at the rate limiter."""
        wait = self.lock_timeout if wait is None else wait
        with urgent():
            async with OrganizationLock(self.ctx.db, self.organization_id, wait):
                yield

    async def _organization(self) -> None:
        async with self.ctx.db.sessions() as session:
            try:
                await journal.ensure_organization(session, self.ctx.org)
                await session.commit()
            except IntegrityError:  # another process created it at the same moment
                await session.rollback()

    # -- pause ------------------------------------------------------------------------------

    async def begin_pause(
        self,
        reason: str,
        by: str,
        strategy: str | Strategy | None = None,
        horizon: str | timedelta | None = None,
        shift: str | timedelta | None = None,
        until: str | datetime | None = None,
        end_restore: str | Restore | None = None,
    ) -> Begun:
        """Record the pause and raise the flag, at once (the banner flips), without waiting
        for a running operation: the new operation runs after it, at the next `run`.

        `until` (an ISO time or a duration from now) makes it a timed pause: it ends by
        itself then, resuming with `end_restore` (default original).
        While paused, nothing new begins: the pause in force is returned (with `until`, its
        end is changed to it).
        """
        asked = validation.pause_parameters(reason, strategy, horizon, shift)
        ends_at = validation.moment(until, "until", utcnow())
        restore_at_end = Restore(end_restore or Restore.ORIGINAL)
        chosen = asked.strategy or self.ctx.org.strategy
        horizon_td = asked.horizon or self.ctx.org.horizon
        shift_td = asked.shift or self.ctx.org.shift
        await self._organization()
        # Begins take turns (SQLite has no row locks), without waiting for operations.
        begins = OrganizationLock(self.ctx.db, f"{self.organization_id}.begin", BEGIN_WAIT)
        async with begins, self.ctx.db.sessions() as session:
            org = await journal.lock_organization(session, self.organization_id)
            assert org is not None
            if org.paused:
                op = await journal.pause_operation_before(session, self.organization_id)
                if ends_at is not None:
                    self._set_end(session, org, ends_at, restore_at_end, by)
                    await session.commit()
                return Begun(op.id if op else None, already=True, ends_at=org.pause_ends_at)
            now = self.ctx.clock()
            op = Operation(
                organization_id=org.id,
                kind=OperationKind.PAUSE.value,
                status=OperationStatus.RUNNING.value,
                strategy=chosen.value,
                horizon_s=int(horizon_td.total_seconds()),
                shift_s=int(shift_td.total_seconds()),
                requested_by=by,
                reason=asked.reason,
                window_start=now,
                window_end=now + horizon_td,
                started_at=utcnow(),
            )
            session.add(op)
            # The pause flag and the operation commit together: never one without the other.
            org.paused = True
            org.pause_reason = asked.reason
            org.paused_by = by
            org.paused_since = utcnow()
            org.pause_strategy = chosen.value
            org.pause_horizon_s = op.horizon_s
            org.pause_shift_s = op.shift_s
            org.pause_starts_at = None
            org.pause_start_request = None
            await session.flush()
            if ends_at is not None:
                self._set_end(session, org, ends_at, restore_at_end, by)
            journal.audit(
                session, org.id, by, "pause.started", operation_id=op.id, reason=asked.reason,
                strategy=chosen.value, horizon_seconds=op.horizon_s, shift_seconds=op.shift_s,
                window_start=format_time(now), window_end=format_time(now + horizon_td),
            )  # fmt: skip
            await session.commit()
            return Begun(op.id, already=False, ends_at=ends_at)

    # -- timed pauses -----------------------------------------------------------------------

    def _set_end(
        self, session: Any, org: Organization, ends_at: datetime | None, restore: Restore,
        by: str,
    ) -> None:  # fmt: skip
        previous = org.pause_ends_at
        org.pause_ends_at = ends_at
        org.pause_end_restore = restore.value if ends_at else None
        org.pause_end_by = by if ends_at else None
        journal.audit(
            session, org.id, by, "pause.end_set" if ends_at else "pause.end_cancelled",
            ends_at=format_time(ends_at) if ends_at else None,
            previous=format_time(previous) if previous else None,
            restore=restore.value if ends_at else None,
        )  # fmt: skip

    async def set_pause_end(
        self, until: str | datetime | None, by: str, restore: str | Restore | None = None
    ) -> datetime | None:
        """Extend, shorten (`until`) or cancel (None) the end of the pause in force; returns
        the new end. ValueError when not paused."""
        ends_at = validation.moment(until, "until", utcnow())
        begins = OrganizationLock(self.ctx.db, f"{self.organization_id}.begin", BEGIN_WAIT)
        async with begins, self.ctx.db.sessions() as session:
            org = await journal.lock_organization(session, self.organization_id)
            if org is None or not org.paused:
                raise ValueError("not paused: there is no pause end to change")
            chosen = Restore(restore or org.pause_end_restore or Restore.ORIGINAL)
            self._set_end(session, org, ends_at, chosen, by)
            await session.commit()
            return ends_at

    async def schedule_pause(
        self, at: str | datetime, reason: str, by: str, strategy: str | None = None,
        horizon: str | None = None, shift: str | None = None, until: str | None = None,
        end_restore: str | None = None,
    ) -> datetime:  # fmt: skip
        """Record a pause that starts by itself at `at` (`until`, if a duration, counts from
        the start). ValueError when paused now."""
        starts_at = validation.moment(at, "at", utcnow())
        assert starts_at is not None
        validation.pause_parameters(reason, strategy, horizon, shift)
        if until:
            validation.moment(until, "until", starts_at)
        await self._organization()
        begins = OrganizationLock(self.ctx.db, f"{self.organization_id}.begin", BEGIN_WAIT)
        async with begins, self.ctx.db.sessions() as session:
            org = await journal.lock_organization(session, self.organization_id)
            assert org is not None
            if org.paused:
                raise ValueError("already paused: a scheduled pause needs the pause lifted")
            org.pause_starts_at = starts_at
            org.pause_start_request = {
                "reason": reason, "by": by, "strategy": strategy, "horizon": horizon,
                "shift": shift, "until": until, "end_restore": end_restore,
            }  # fmt: skip
            journal.audit(session, org.id, by, "pause.scheduled", starts_at=format_time(starts_at),
                          reason=reason, until=until)  # fmt: skip
            await session.commit()
            return starts_at

    async def fire_timers(self, now: datetime | None = None) -> dict[str, Any]:
        """Start a scheduled pause, or end a timed one, whose time has come (what the timer
        job does). Any number of workers may call it at once: each start or end happens once
        (decided under the organization's row lock), then runs to its end here."""
        now = now or utcnow()
        async with self.ctx.db.sessions() as session:
            org = await session.get(Organization, self.organization_id)
            if org is None:
                return {}
            start_due = not org.paused and org.pause_starts_at is not None and (
                org.pause_starts_at <= now
            )
            end_due = org.paused and org.pause_ends_at is not None and org.pause_ends_at <= now
            request = dict(org.pause_start_request or {})
        fired: dict[str, Any] = {}
        if start_due:
            begun = await self._begin_scheduled(now, request)
            if begun is not None and not begun.already:
                fired["started"] = await self.pause_run(begun)
        elif end_due:
            begun = await self._begin_timed_resume(now)
            if begun is not None and not begun.already:
                fired["ended"] = await self.resume_run(begun)
        return fired

    async def _begin_scheduled(self, now: datetime, request: dict[str, Any]) -> Begun | None:
        begins = OrganizationLock(self.ctx.db, f"{self.organization_id}.begin", BEGIN_WAIT)
        async with begins, self.ctx.db.sessions() as session:
            org = await journal.lock_organization(session, self.organization_id)
            if org is None or org.paused or org.pause_starts_at is None or (
                org.pause_starts_at > now
            ):
                return None  # another worker started it, or it was cancelled or moved
            org.pause_starts_at = None  # claimed: this worker starts it, once
            await session.commit()
        until = None
        with suppress(validation.InvalidParameter):  # a duration counts from the start
            until = validation.moment(request.get("until"), "until", now)
        return await self.begin_pause(
            request.get("reason") or "scheduled pause",
            TIMER_ACTOR.format(request.get("by") or "unknown"),
            request.get("strategy"), request.get("horizon"), request.get("shift"),
            until=until, end_restore=request.get("end_restore"),
        )  # fmt: skip

    async def _begin_timed_resume(self, now: datetime) -> Begun | None:
        begins = OrganizationLock(self.ctx.db, f"{self.organization_id}.begin", BEGIN_WAIT)
        async with begins, self.ctx.db.sessions() as session:
            org = await journal.lock_organization(session, self.organization_id)
            if org is None or not org.paused or org.pause_ends_at is None or (
                org.pause_ends_at > now
            ):
                return None  # another worker ended it, or the end was moved or cancelled
            restore = org.pause_end_restore or Restore.ORIGINAL.value
            by = TIMER_ACTOR.format(org.pause_end_by or "unknown")
        return await self.begin_resume(restore, by)

    async def pause_run(self, begun: Begun) -> OperationSummary:
        await self.run()
        return await self._summary_of(begun.operation_id)

    async def resume_run(self, begun: Begun) -> dict[str, Any]:
        async with self._lock():
            await self._recover_locked(None)
            held = await release_held(self.ctx.db, self.ctx.platform, self.ctx.org)
        summary = await self._summary(begun.operation_id) if begun.operation_id else {}
        return {**summary, "held": held}

    async def preview(self, horizon: str | timedelta | None = None) -> dict[str, Any]:
        """What a pause started now would move (same window, same listing), and how many
        items await approval; changes nothing. `paused`: a pause is already in force."""
        chosen = validation.duration(horizon, "horizon", validation.MAX_HORIZON)
        result = await preview_window(
            self.ctx.platform, self.ctx.clock(), chosen or self.ctx.org.horizon
        )
        async with self.ctx.db.sessions() as session:
            org = await session.get(Organization, self.organization_id)
        result["paused"] = bool(org is not None and org.paused)
        result["organization"] = self.organization_id
        return result

    async def run(self, progress: Progress | None = None) -> list[OperationSummary]:
        """Run every begun or unfinished operation to its end (what a worker's job does);
        after a resume, held messages are released as `resume` does."""
        async with self._lock():
            finished = await self._recover_locked(progress)
            if any(f.get("kind") == OperationKind.RESUME.value for f in finished):
                await self._release_if_not_paused()
            return finished

    async def _release_if_not_paused(self) -> None:
        async with self.ctx.db.sessions() as session:
            org = await session.get(Organization, self.organization_id)
            if org is not None and not org.paused:  # not paused again meanwhile
                await release_held(self.ctx.db, self.ctx.platform, self.ctx.org, self.ctx.clock)

    async def pause(
        self,
        reason: str,
        by: str,
        strategy: str | Strategy | None = None,
        horizon: str | timedelta | None = None,
        shift: str | timedelta | None = None,
        progress: Progress | None = None,
        until: str | datetime | None = None,
        end_restore: str | Restore | None = None,
    ) -> PauseResult:
        """Move every SCHEDULED message due in [now, now + horizon) out of the window, and
        wait for it. Pressing it while paused changes nothing but finishing unfinished work
        (and the end, with `until`), and says so."""
        begun = await self.begin_pause(
            reason, by, strategy, horizon, shift, until=until, end_restore=end_restore
        )
        try:
            await self.run(progress)
        except Exception:
            if not begun.already and begun.operation_id is not None:
                await self._abandon_if_untouched(begun.operation_id)
            raise
        summary = await self._summary_of(begun.operation_id)
        ends_at = format_time(begun.ends_at) if begun.ends_at else None
        return cast(
            PauseResult,
            {**summary, "already_paused": begun.already, "paused": True, "ends_at": ends_at},
        )

    async def _abandon_if_untouched(self, op_id: int) -> None:
        """A pause that failed before it journaled anything (bad credentials, upstream down)
        changed nothing upstream: lift the flag rather than show a pause that is not there."""
        async with self.ctx.db.sessions() as session:
            op = await session.get(Operation, op_id)
            if op is None or await journal.counts_by_step(session, op_id) or op.listed:
                return
            org = await journal.lock_organization(session, self.organization_id)
            assert org is not None
            op.status = OperationStatus.FAILED.value
            op.finished_at = utcnow()
            _lift(org)
            journal.audit(
                session, org.id, op.requested_by, "pause.aborted", operation_id=op.id,
                error=op.error,
            )  # fmt: skip
            await session.commit()

    # -- resume -----------------------------------------------------------------------------

    async def begin_resume(self, restore: str | Restore, by: str) -> Begun:
        """Record the resume and lift the pause, at once; `run` plans and executes it (after
        any operation still running, so the pause's journal is complete when it plans).
        When not paused, nothing begins (`already`: the latest operation)."""
        chosen = Restore(restore)
        await self._organization()
        begins = OrganizationLock(self.ctx.db, f"{self.organization_id}.begin", BEGIN_WAIT)
        async with begins, self.ctx.db.sessions() as session:
            org = await journal.lock_organization(session, self.organization_id)
            assert org is not None
            if not org.paused:
                last = await journal.latest_operation(session, self.organization_id)
                return Begun(last.id if last else None, already=True)
            op = Operation(
                organization_id=org.id,
                kind=OperationKind.RESUME.value,
                status=OperationStatus.RUNNING.value,
                restore=chosen.value,
                strategy=org.pause_strategy,
                requested_by=by,
                reason=org.pause_reason,
                started_at=utcnow(),
                listed=False,  # planned when it runs
            )
            session.add(op)
            await session.flush()
            _lift(org)
            journal.audit(session, org.id, by, "resume.started", operation_id=op.id,
                          restore=chosen.value)  # fmt: skip
            await session.commit()
            return Begun(op.id, already=False)

    async def resume(
        self, restore: str | Restore = Restore.ORIGINAL, by: str = "system",
        progress: Progress | None = None,
    ) -> ResumeResult:  # fmt: skip
        """Lift the pause; `original` also puts moved messages back at their own times, and
        wait for it. Then held messages still pending and still future are approved, soonest
        first (resuming again finishes a release a crash interrupted)."""
        begun = await self.begin_resume(restore, by)
        async with self._lock():
            await self._recover_locked(progress)
            held = await release_held(self.ctx.db, self.ctx.platform, self.ctx.org, self.ctx.clock)
        summary = await self._summary_of(begun.operation_id)
        return cast(
            ResumeResult, {**summary, "not_paused": begun.already, "paused": False, "held": held}
        )

    async def _plan_resume(self, op_id: int) -> None:
        """Journal what a begun resume will do, once (then it is `listed`)."""
        async with self.ctx.db.sessions() as session:
            op = await session.get(Operation, op_id)
            assert op is not None
            if op.listed:
                return
            pause = await journal.pause_operation_before(session, self.organization_id, op.id)
            restore = Restore(op.restore or Restore.ORIGINAL.value)
            op.in_scope = await plan_resume(session, pause, op, restore, self.ctx.clock())
            op.listed = True
            journal.audit(session, self.organization_id, op.requested_by, "resume.planned",
                          operation_id=op.id, pause_operation_id=pause.id if pause else None,
                          planned=op.in_scope)  # fmt: skip
            await session.commit()

    # -- enforcement ------------------------------------------------------------------------

    async def _paused(self) -> tuple[Organization, Operation] | None:
        async with self.ctx.db.sessions() as session:
            org = await session.get(Organization, self.organization_id)
            if org is None or not org.paused:
                return None
            pause = await journal.pause_operation_before(session, self.organization_id)
            return (org, pause) if pause is not None else None

    async def enforce_message(self, message_id: str) -> EnforceOutcome:
        """One message (from a webhook): 'moved', 'pushed_again', 'allowed', 'ignored', ...

        The message is read first, without the lock: most events (forged ids, messages that
        are gone, out of the window, or by the emergency team) need nothing, and a flood of
        them must not queue on the lock that sweeps and operations need.
        Raises Busy if a pause or resume holds the organization longer than the lock timeout:
        the caller retries later (the sweeps are the safety net).
        """
        state = await self._paused()
        if state is None:
            return EnforceOutcome.NOT_PAUSED
        message = await self.ctx.platform.get(str(message_id))
        if message is None:
            return EnforceOutcome.GONE
        if not await self._may_need_moving(state, message):
            return EnforceOutcome.IGNORED
        async with self._lock():
            await self._recover_locked(None)
            state = await self._paused()
            if state is None:
                return EnforceOutcome.NOT_PAUSED
            message = await self.ctx.platform.get(str(message_id))
            if message is None:
                return EnforceOutcome.GONE
            decisions = await enforce(self.ctx, state[0], state[1], [message])
            outcome = decisions.outcome(message.id)
            if outcome != EnforceOutcome.IGNORED:
                await self._audit_enforce(decisions, via="webhook")
            return outcome

    async def _may_need_moving(
        self, state: tuple[Organization, Operation], message: Message
    ) -> bool:
        """Cheap pre-check, no lock: a SCHEDULED message due inside the pause's window."""
        org, pause = state
        now = self.ctx.clock()
        horizon = timedelta(seconds=org.pause_horizon_s or pause.horizon_s or 0)
        return message.state == MessageState.SCHEDULED.value and now <= (
            message.scheduled_send_time
        ) < now + (horizon or self.ctx.org.horizon)

    async def sweep(
        self, window: timedelta | None = None, lock_wait: float = 1.0, *, operations: bool = True
    ) -> SweepResult:
        """List [now, now + window) (default: the pause's horizon) and apply the enforcement
        rule to everything in it. A short `window` is the fast sweep of the next minutes.
        Unfinished operations are finished first, or, without `operations`, left to the
        job that runs them (the sweep then waits for its turn)."""
        if await self._paused() is None:
            return {"paused": False}
        try:
            async with self._lock(wait=lock_wait):
                if not operations and await self._unfinished():
                    return {"paused": True, "busy": True}
                await self._recover_locked(None)
                state = await self._paused()
                if state is None:
                    return {"paused": False}
                org, pause = state
                now = self.ctx.clock()
                horizon = timedelta(seconds=org.pause_horizon_s or pause.horizon_s or 0)
                horizon = horizon or self.ctx.org.horizon
                span = min(window, horizon) if window is not None else horizon
                messages = [
                    m
                    async for page in self.ctx.platform.list_due(now, now + span)
                    for m in page
                ]
                decisions = await enforce(self.ctx, org, pause, messages)
        except Busy:
            return {"paused": True, "busy": True}
        counts = decisions.counts()
        if counts["moved"] or counts["pushed_again"] or counts["retried"]:
            await self._audit_enforce(decisions, via="sweep" if window is None else "fast-sweep")
        return cast(SweepResult, {"paused": True, "listed": len(messages), **counts})

    async def _audit_enforce(self, decisions: Any, via: str) -> None:
        async with self.ctx.db.sessions() as session:
            journal.audit(
                session, self.organization_id, "system", "enforce", via=via,
                **decisions.counts(), message_ids=(decisions.moved + decisions.pushed_again)[:100],
            )  # fmt: skip
            await session.commit()

    # -- recovery and status ----------------------------------------------------------------

    async def recover(self, progress: Progress | None = None) -> list[OperationSummary]:
        """Finish every operation a crashed process left unfinished (call at start-up)."""
        await self._organization()
        async with self._lock():
            return await self._recover_locked(progress)

    async def _unfinished(self) -> bool:
        async with self.ctx.db.sessions() as session:
            return bool(await journal.unfinished_operations(session, self.organization_id))

    async def _recover_locked(self, progress: Progress | None) -> list[OperationSummary]:
        finished: list[int] = []
        async with self.ctx.db.sessions() as session:
            unfinished = await journal.unfinished_operations(session, self.organization_id)
            org = await session.get(Organization, self.organization_id)
            leftovers: Operation | None = None
            if org is not None and org.paused:
                pause = await journal.pause_operation_before(session, self.organization_id)
                if pause is not None and pause.status != OperationStatus.RUNNING.value:
                    rest = await session.execute(
                        select(JournalEntry.id)
                        .where(
                            JournalEntry.operation_id == pause.id,
                            JournalEntry.step.in_([Step.PLANNED.value, Step.NEUTRALISED.value]),
                        )
                        .limit(1)
                    )
                    if rest.first() is not None:
                        leftovers = pause  # an enforcement interrupted mid-way
        for op in unfinished:
            log.info("running %s operation %s", op.kind, op.id)
            if op.kind == OperationKind.PAUSE.value:
                await execute_pause(self.ctx, op.id, progress)
            elif op.kind == OperationKind.RESUME.value:
                await self._plan_resume(op.id)
                await execute_resume(self.ctx, op.id, progress)
            finished.append(op.id)
        if leftovers is not None:
            await execute_pause(self.ctx, leftovers.id, progress)
            finished.append(leftovers.id)
        return [
            OperationSummary(**await self._summary(op_id), recovered=True) for op_id in finished
        ]

    async def _summary_of(self, op_id: int | None) -> OperationSummary:
        return await self._summary(op_id) if op_id is not None else OperationSummary()

    async def _summary(self, op_id: int) -> OperationSummary:
        async with self.ctx.db.sessions() as session:
            op = await session.get(Operation, op_id)
            assert op is not None
            return await operation_summary(session, op)

    async def status(self) -> Status:
        async with self.ctx.db.sessions() as session:
            return await read_status(session, self.organization_id)
