"""The job queue without a job database (SQLite, the demo): the same handlers, run as
asyncio tasks in this process, one at a time per organization, organizations in parallel,
retried with the same backoff as on PostgreSQL, plus the periodic sweep of paused
organizations. Work still waiting when the process stops is not lost: the engine's journal
keeps it, and recovery at start-up finishes it."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime

from empause.domain.timeutil import utcnow
from empause.jobs.ports import Handlers
from empause.jobs.settings import JobSettings

logger = logging.getLogger(__name__)


class InProcessQueue:
    def __init__(self, handlers: Handlers, settings: JobSettings | None = None) -> None:
        self.settings = settings or JobSettings()
        self._handlers = handlers
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._waiting: set[Hashable] = set()  # jobs deferred and not started: no duplicates
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._timers: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the periodic sweep of paused organizations."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="periodic sweep")
        if self._timers is None:  # timers live in the database: found again after a restart
            self._timers = asyncio.create_task(self._check_timers_forever(), name="timers")

    async def stop(self) -> None:
        """Stop the sweep and cancel the jobs still waiting or running."""
        tasks = [*self._tasks, *(t for t in (self._sweeper, self._timers) if t)]
        self._sweeper = self._timers = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def join(self) -> None:
        """Wait until every deferred job has finished (tests, the CLI)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def defer_operation(self, organization_id: str, operation_id: int) -> None:
        self._defer(
            ("operation", organization_id, operation_id),
            organization_id,
            lambda: self._handlers.run_operation(organization_id, operation_id),
        )

    async def defer_sweep(self, organization_id: str) -> None:
        self._defer(
            ("sweep", organization_id),
            organization_id,
            lambda: self._handlers.sweep(organization_id),
        )

    async def defer_timer(self, organization_id: str, when: datetime) -> None:
        """Fire the organization's timers at `when` (the periodic check is the safety net,
        and finds timers again after a restart)."""

        async def later() -> None:
            await asyncio.sleep(max(0.0, (when - utcnow()).total_seconds()))
            await self.defer_fire_timers(organization_id)

        task = asyncio.create_task(later(), name=f"timer {organization_id} {when}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def defer_fire_timers(self, organization_id: str) -> None:
        # Not under the organization's job lock: the engine's own locks order the work.
        self._defer(
            ("timer", organization_id),
            f"timer:{organization_id}",
            lambda: self._handlers.fire_timers(organization_id),
        )

    def _defer(
        self, key: Hashable, organization_id: str, body: Callable[[], Awaitable[None]]
    ) -> None:
        if key in self._waiting:
            return
        self._waiting.add(key)
        task = asyncio.create_task(self._run(key, organization_id, body), name=str(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, key: Hashable, organization_id: str, body: Callable[[], Awaitable[None]]
    ) -> None:
        attempts = 0
        while True:
            async with self._locks[organization_id]:
                self._waiting.discard(key)
                try:
                    await body()
                    return
                except Exception:
                    if attempts >= self.settings.max_attempts:
                        logger.exception("job %s failed; giving up", key)
                        return
                    logger.exception("job %s failed; retrying", key)
                    self._waiting.add(key)  # the retry absorbs deferrals meanwhile
            await asyncio.sleep(self.settings.retry_delay(attempts))
            attempts += 1

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval)
            try:
                for organization_id in await self._handlers.paused_organizations():
                    await self.defer_sweep(organization_id)
            except Exception:
                logger.exception("periodic sweep failed; trying again")

    async def _check_timers_forever(self) -> None:
        while True:
            try:
                for organization_id in await self._handlers.due_timers():
                    await self.defer_fire_timers(organization_id)
            except Exception:
                logger.exception("checking timers failed; trying again")
            await asyncio.sleep(self.settings.timer_check_interval)
