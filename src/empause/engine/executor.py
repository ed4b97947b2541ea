"""Moving one message upstream, with the journal discipline that makes it crash-safe.

Neutralise: the DELETE may be repeated freely (NotFound means done). Create: the attempt
counter and target time are durable *before* each call, and every attempt after the first
looks for the copy upstream before sending, so neither a lost response nor a crash between
the call and the commit can ever leave two live copies.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from empause.domain.model import Step
from empause.engine.journal import Job
from empause.engine.writer import JournalWriter
from empause.platforms.port import (
    AlreadySent,
    Ambiguous,
    AuthError,
    NotFound,
    Permanent,
    Platform,
    Transient,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], object]

TRANSIENT_BACKOFF = (0.5, 1.0, 2.0)  # on top of the adapter's own retries
MAX_CREATE_ATTEMPTS = 12


class UpstreamUnavailable(Transient):
    """The platform kept failing: the operation stops, resumable from its journal."""


def unwrap(error: BaseException) -> BaseException:
    """The first real error inside (nested) task-group exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


class Executor:
    def __init__(
        self,
        platform: Platform,
        writer: JournalWriter,
        claimed: set[str],
        progress: Progress | None = None,
    ):
        self.platform = platform
        self.writer = writer
        self.claimed = claimed
        self.progress = progress
        self.done = 0
        self.total = 0
        self.phase = ""

    def start_phase(self, phase: str, total: int) -> None:
        self.phase, self.total, self.done = phase, total, 0
        self._report()

    def add_total(self, n: int) -> None:
        self.total += n
        self._report()

    def _report(self) -> None:
        if self.progress is not None:
            try:
                self.progress(self.done, self.total, self.phase)
            except Exception:  # a progress bar must never stop a pause
                log.exception("progress callback failed")

    def _advance(self) -> None:
        self.done += 1
        self._report()

    def _settle(self, job: Job, step: Step, **fields: object) -> None:
        """The job's outcome: recorded (with the next group commit) and counted."""
        job.step = step
        self.writer.defer(job.entry_id, step=step.value, **fields)
        self._advance()

    def _fail(self, job: Job, error: BaseException) -> None:
        job.failures += 1
        self._settle(
            job, Step.FAILED, attempts=job.attempts, failures=job.failures,
            last_error=str(error)[:2000],
        )  # fmt: skip
        log.warning("message %s failed: %s", job.message.id, error)

    async def neutralise(self, job: Job, after: Step) -> None:
        """PLANNED -> `after` (NEUTRALISED or HELD); the copy `new_id` if set, else the original.

        The attempt is durable before the first call: a NotFound then tells our own earlier
        call (it worked; a crash or a lost answer hid it) from a message deleted upstream by
        someone else before we touched it, which is left deleted (SKIPPED), never re-created.
        """
        target = job.message
        if job.new_id:
            target = dataclasses.replace(
                job.message,
                id=job.new_id,
                scheduled_send_time=job.new_time or target.scheduled_send_time,
            )
        ours_before = job.attempts > 0
        job.attempts += 1
        await self.writer.write(job.entry_id, attempts=job.attempts)
        note = None
        for wait in (*TRANSIENT_BACKOFF, None):
            try:
                await self.platform.neutralise(target)
                break
            except NotFound:
                if not ours_before:
                    self._settle(
                        job, Step.SKIPPED, attempts=0,
                        last_error="deleted upstream by someone else before we touched it",
                    )  # fmt: skip
                    return
                note = "already gone upstream"
                break
            except AlreadySent as exc:
                self._settle(
                    job, Step.SKIPPED, attempts=0, last_error=f"already sent: {exc}"[:2000]
                )
                return
            except AuthError:
                raise
            except Permanent as exc:
                job.attempts = 0
                self._fail(job, exc)
                return
            except (Ambiguous, Transient) as exc:
                # Ambiguous: repeat the DELETE (NotFound then means the first one worked); never
                # take an unanswered last attempt for success, or a live original gets a copy.
                ours_before = True  # it may have been applied: a NotFound now is ours
                if wait is None:
                    raise UpstreamUnavailable(str(exc)) from exc
                if not isinstance(exc, Ambiguous):
                    await asyncio.sleep(wait)
        job.attempts = 0  # the create that may follow counts its own attempts
        self._settle(job, after, attempts=0, **({"last_error": note} if note else {}))

    async def create(self, job: Job, when: datetime, final: Step) -> None:
        """NEUTRALISED -> `final` (CREATED or RESTORED): exactly one live copy at new_time."""
        if job.new_time is None:
            job.new_time = when
        transient = 0
        for _ in range(MAX_CREATE_ATTEMPTS):
            look_first = job.attempts > 0
            job.attempts += 1
            await self.writer.write(job.entry_id, attempts=job.attempts, new_time=job.new_time)
            try:
                if look_first:
                    found = await self.platform.find_restored(
                        job.message, job.new_time, set(self.claimed)
                    )
                    if found is not None:
                        self._created(job, found.id, final)
                        return
                copy = await self.platform.restore(job.message, job.new_time)
            except Ambiguous as exc:
                log.info(
                    "create of %s ambiguous (%s): looking before retrying", job.message.id, exc
                )
                continue
            except AuthError:
                raise
            except Permanent as exc:
                self._fail(job, exc)
                return
            except Transient as exc:
                if transient >= len(TRANSIENT_BACKOFF):
                    raise UpstreamUnavailable(str(exc)) from exc
                await asyncio.sleep(TRANSIENT_BACKOFF[transient])
                transient += 1
                continue
            self._created(job, copy.id, final)
            return
        raise UpstreamUnavailable(
            f"could not re-create message {job.message.id} after {job.attempts} attempts"
        )

    def _created(self, job: Job, new_id: str, final: Step) -> None:
        self.claimed.add(new_id)
        job.new_id = new_id
        self._settle(job, final, new_id=new_id)


async def run_pool(
    queue: asyncio.PriorityQueue[tuple[object, ...]],
    handle: Callable[[Job], Awaitable[None]],
    concurrency: int,
) -> None:
    """Workers take the most urgent job first; a None job is a stop sign for one worker."""

    async def worker() -> None:
        while True:
            item = await queue.get()
            job = item[-1]
            if job is None:
                return
            assert isinstance(job, Job)
            await handle(job)

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())


async def run_jobs(
    jobs: list[Job], handle: Callable[[Job], Awaitable[None]], concurrency: int
) -> None:
    """Run a known list of jobs, soonest-due first, `concurrency` at a time."""
    queue: asyncio.PriorityQueue[tuple[object, ...]] = asyncio.PriorityQueue()
    for n, job in enumerate(sorted(jobs, key=lambda j: j.sort_key)):
        queue.put_nowait((*job.sort_key, n, job))
    stop_workers(queue, concurrency)
    await run_pool(queue, handle, concurrency)


def stop_workers(queue: asyncio.PriorityQueue[tuple[object, ...]], concurrency: int) -> None:
    """Stop signs, queued behind every job."""
    for n in range(concurrency):
        queue.put_nowait((_LAST, "", n, None))


class _Last:
    """Sorts after every datetime: stop signs go to the back of the queue."""

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return not isinstance(other, _Last)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Last)

    __hash__ = object.__hash__


_LAST = _Last()
