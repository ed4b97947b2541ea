"""The background worker that empties the webhook inbox.

Pending rows are picked up at start (a crash loses nothing: rows are written before the
200), then whenever the receiver wakes us, and by a slow poll as a safety net. Events for one
message collapse into the newest; different messages are handled concurrently. A failure worth
retrying leaves the row pending with a growing delay, then marks it failed for a human.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from empause.domain.organization import OrganizationConfig
from empause.domain.timeutil import utcnow
from empause.platforms.port import Platform
from empause.prescreen import inbox
from empause.prescreen.logs import log
from empause.prescreen.screen import Enforcer, Prescreener
from empause.prescreen.urgency import DueTimes
from empause.store.db import Database
from empause.store.models import InboxEvent

# Workers running in this process; the receiver wakes them all when it has no handle on one.
_listeners: set[Callable[[], None]] = set()
_listeners_lock = threading.Lock()


def wake_all() -> None:
    with _listeners_lock:
        listeners = list(_listeners)
    for wake in listeners:
        wake()


class InboxWorker:
    def __init__(
        self,
        db: Database,
        platform: Platform,
        engine: Enforcer,
        settings: OrganizationConfig,
        *,
        concurrency: int | None = None,
        batch: int = 200,
        poll_interval: float = 5.0,
        max_attempts: int = 10,
        retry_delay: float = 0.5,
        max_retry_delay: float = 30.0,
        team_ttl: float = 10.0,
        flush_every: int = 20,
    ):
        self.db = db
        self.organization_id = settings.organization_id
        self.screen = Prescreener(db, platform, engine, settings, team_ttl)
        self.due_times = DueTimes(platform, settings.fast_sweep_window)
        self.concurrency = concurrency or settings.concurrency
        self.batch = batch
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.flush_every = flush_every
        self.max_retry_delay = max_retry_delay
        self._not_before: dict[int, float] = {}
        self._done: list[int] = []  # handled, not yet marked done (one write per few events)
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start in the running loop; pending rows from before a crash are taken first."""
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="prescreen-inbox-worker")
        with _listeners_lock:
            _listeners.add(self.wake)

    async def stop(self) -> None:
        with _listeners_lock:
            _listeners.discard(self.wake)
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    def wake(self) -> None:
        """Thread-safe: the receiver may run on another loop than ours."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wakeup.set()
        else:
            loop.call_soon_threadsafe(self._wakeup.set)

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        log("prescreen.worker.started", concurrency=self.concurrency)
        while True:
            self._wakeup.clear()
            try:
                handled = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be briefly unavailable: keep going
                log("prescreen.worker.error", level=logging.ERROR, error=repr(exc))
                handled = 0
            if handled:
                continue
            delay = self.poll_interval
            if self._not_before:
                delay = max(0.01, min(delay, min(self._not_before.values()) - time.monotonic()))
            try:
                await asyncio.wait_for(self._wakeup.wait(), delay)
            except TimeoutError:
                pass

    async def run_once(self) -> int:
        """Handle one batch of due pending rows; returns how many were handled."""
        now = time.monotonic()
        waiting = {i for i, t in self._not_before.items() if t > now}
        rows = await inbox.pending(
            self.db, self.batch, exclude=waiting, organization_id=self.organization_id
        )
        if not rows:
            return 0
        # Soonest-due first: with a backlog (a flood), the rows of messages due soon are
        # taken before older ones; within a batch, messages start in order of due time.
        due = await self.due_times.get(utcnow())
        if len(rows) == self.batch and due:
            rows = await inbox.pending(
                self.db, self.batch, exclude=waiting, first=set(due),
                organization_id=self.organization_id,
            )  # fmt: skip
        by_message: dict[str, list[InboxEvent]] = {}
        for row in rows:
            by_message.setdefault(row.message_id, []).append(row)
        never = datetime.max.replace(tzinfo=UTC)
        order = sorted(
            by_message.values(), key=lambda events: (due.get(events[0].message_id, never), events[0].id)
        )
        limit = asyncio.Semaphore(self.concurrency)

        async def one_message(events: list[InboxEvent]) -> None:
            # Events for one message collapse into its newest: every decision re-reads the
            # platform, so the older ones would only repeat it (a flood of duplicates or
            # replays costs one upstream read per message, not one per event).
            *older, newest = sorted(events, key=lambda e: e.id)
            self._done.extend(e.id for e in older)
            async with limit:
                await self._handle(newest)

        try:
            await asyncio.gather(*(one_message(events) for events in order))
        finally:
            await self._flush_done()
        return len(rows)

    async def _flush_done(self) -> None:
        """Mark handled rows done; an unflushed row is decided again after a crash (harmless:
        every decision re-reads the platform and repeats are recognised)."""
        done, self._done = self._done, []
        await inbox.finish_many(self.db, done)

    async def _handle(self, event: InboxEvent) -> None:
        where = {"inbox_id": event.id, "message_id": event.message_id, "state": event.state}
        try:
            outcome = await self.screen.handle(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            attempts = await inbox.retry_later(self.db, event.id, repr(exc))
            if attempts >= self.max_attempts:
                await inbox.fail(self.db, event.id, repr(exc))
                self._not_before.pop(event.id, None)
                log("prescreen.failed", level=logging.ERROR, attempts=attempts,
                    error=repr(exc), **where)  # fmt: skip
                return
            delay = min(self.max_retry_delay, self.retry_delay * 2 ** (attempts - 1))
            self._not_before[event.id] = time.monotonic() + delay
            log("prescreen.retry", level=logging.WARNING, attempts=attempts, delay=delay,
                error=repr(exc), **where)  # fmt: skip
            return
        self._not_before.pop(event.id, None)
        self._done.append(event.id)
        if len(self._done) >= self.flush_every:
            await self._flush_done()
        log("prescreen.handled", outcome=outcome, **where)
