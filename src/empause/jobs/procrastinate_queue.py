"""Background work as procrastinate jobs in PostgreSQL.

Every job of an organization carries the lock ``organization:<id>``: one at a time per
organization, any number of organizations in parallel, on any number of workers. Workers
heartbeat; each one also puts back the jobs of workers whose heartbeat stopped (a killed
process), so another worker takes them over within seconds. Job bodies are the
application's idempotent handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from datetime import datetime
from typing import Any

from procrastinate import App, BaseRetryStrategy, PsycopgConnector, RetryDecision
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Job, Status

from empause.jobs.ports import Handlers
from empause.jobs.postgres import conninfo, ensure_schema
from empause.jobs.settings import JobSettings, every, organization_lock

logger = logging.getLogger(__name__)

RUN_OPERATION = "empause.run_operation"
SWEEP = "empause.sweep"
SWEEP_PAUSED = "empause.sweep_paused"
FIRE_TIMERS = "empause.fire_timers"
CHECK_TIMERS = "empause.check_timers"


class _Backoff(BaseRetryStrategy):
    """Retry a failed job after a doubling, capped delay."""

    def __init__(self, settings: JobSettings) -> None:
        self._settings = settings

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if job.attempts >= self._settings.max_attempts:
            return None
        return RetryDecision(retry_in={"seconds": self._settings.retry_delay(job.attempts)})


class ProcrastinateQueue:
    """The job queue on PostgreSQL; also runs workers. ``open()`` before use."""

    def __init__(
        self, database_url: str, handlers: Handlers, settings: JobSettings | None = None
    ) -> None:
        self.settings = settings or JobSettings()
        self._dsn = conninfo(database_url)
        self._handlers = handlers
        self.app = self._build_app()

    def _build_app(self) -> App:
        app = App(connector=PsycopgConnector(conninfo=self._dsn))
        handlers, retry = self._handlers, _Backoff(self.settings)

        @app.task(name=RUN_OPERATION, retry=retry)
        async def run_operation(organization_id: str, operation_id: int) -> None:
            await handlers.run_operation(organization_id, operation_id)

        @app.task(name=SWEEP, retry=retry)
        async def sweep(organization_id: str) -> None:
            await handlers.sweep(organization_id)

        @app.periodic(cron=every(self.settings.sweep_interval))
        @app.task(name=SWEEP_PAUSED, queueing_lock=SWEEP_PAUSED)
        async def sweep_paused(timestamp: int) -> None:
            for organization_id in await handlers.paused_organizations():
                await self.defer_sweep(organization_id)

        @app.task(name=FIRE_TIMERS, retry=retry)
        async def fire_timers(organization_id: str) -> None:
            await handlers.fire_timers(organization_id)

        @app.periodic(cron=every(self.settings.timer_check_interval))
        @app.task(name=CHECK_TIMERS, queueing_lock=CHECK_TIMERS)
        async def check_timers(timestamp: int) -> None:
            for organization_id in await handlers.due_timers():
                await self._defer(FIRE_TIMERS, organization_id, f"timer:{organization_id}:due")

        return app

    async def open(self) -> None:
        """Apply procrastinate's schema if needed and open the connection pool."""
        await ensure_schema(self._dsn)
        await self.app.open_async()

    async def close(self) -> None:
        await self.app.close_async()

    async def defer_operation(self, organization_id: str, operation_id: int) -> None:
        await self._defer(
            RUN_OPERATION,
            organization_id,
            f"operation:{organization_id}:{operation_id}",
            operation_id=operation_id,
        )

    async def defer_sweep(self, organization_id: str) -> None:
        await self._defer(SWEEP, organization_id, f"sweep:{organization_id}")

    async def defer_timer(self, organization_id: str, when: datetime) -> None:
        """A job in the database that fires the organization's timers at `when`: it
        survives restarts, and one worker takes it (its queueing lock names the moment, so
        a moved end gets a job of its own; one whose moment is no longer due does nothing)."""
        stamp = int(when.timestamp())
        await self._defer(
            FIRE_TIMERS, organization_id, f"timer:{organization_id}:{stamp}", schedule_at=when
        )

    async def _defer(
        self, task_name: str, organization_id: str, queueing_lock: str,
        schedule_at: datetime | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        task = self.app.tasks[task_name]
        # A waiting job holds back later jobs of its lock, even one scheduled for later:
        # timers carry none (the engine's own organization locks order what they do).
        lock = None if task_name == FIRE_TIMERS else organization_lock(organization_id)
        deferrer = task.configure(
            lock=lock, queueing_lock=queueing_lock, schedule_at=schedule_at
        )
        # A job with the same queueing lock still waiting will do the same work.
        with contextlib.suppress(AlreadyEnqueued):
            await deferrer.defer_async(organization_id=organization_id, **kwargs)

    async def recover_stalled_jobs(self) -> list[int]:
        """Put back to do the running jobs of workers whose heartbeat stopped."""
        recovered = []
        stalled = await self.app.job_manager.get_stalled_jobs(
            seconds_since_heartbeat=self.settings.stalled_after
        )
        for job in stalled:
            assert job.id is not None
            try:
                await self.app.job_manager.retry_job(job)
            except UniqueViolation:
                # A twin (same queueing lock) already waits to do this work, and this one
                # would hold the organization's lock before it forever: end this one.
                await self.app.job_manager.finish_job(job, Status.ABORTED, delete_job=False)
                logger.warning("stalled job %s replaced by its waiting twin", job.id)
                continue
            except Exception:  # another worker recovered it first, or it just finished
                logger.debug("stalled job %s already handled", job.id, exc_info=True)
                continue
            logger.warning("took over job %s (%s) from a stalled worker", job.id, job.task_name)
            recovered.append(job.id)
        return recovered

    async def _recover_forever(self) -> None:
        while True:
            try:
                await self.recover_stalled_jobs()
            except Exception:
                logger.exception("stalled-job recovery failed; trying again")
            await asyncio.sleep(self.settings.recovery_interval)

    async def run_worker(
        self,
        *,
        concurrency: int = 4,
        name: str | None = None,
        install_signal_handlers: bool = True,
    ) -> None:
        """Run a worker until stopped: by SIGTERM/SIGINT when ``install_signal_handlers``,
        or by cancelling the task running this (running jobs finish first)."""
        recovery = asyncio.create_task(self._recover_forever(), name="stalled-job recovery")
        try:
            await self.app.run_worker_async(
                concurrency=concurrency,
                name=name or f"empause-{socket.gethostname()}-{os.getpid()}",
                install_signal_handlers=install_signal_handlers,
                update_heartbeat_interval=self.settings.heartbeat_interval,
                stalled_worker_timeout=self.settings.stalled_after,
                fetch_job_polling_interval=self.settings.fetch_polling_interval,
                delete_jobs="successful",
                # Stopping: running jobs get a few seconds, then are cancelled (the journal
                # makes that safe; the operation is handed to a worker again).
                shutdown_graceful_timeout=self.settings.shutdown_grace,
            )
        finally:
            recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recovery


async def run_worker(
    database_url: str,
    handlers: Handlers,
    *,
    concurrency: int = 4,
    settings: JobSettings | None = None,
    name: str | None = None,
) -> None:
    """Run one worker process until SIGTERM or SIGINT (``empause worker``).

    The running jobs finish before it returns. A worker that stops on its own (the
    database went away: procrastinate stops a worker whose heartbeat or listener fails)
    is started again after ``settings.restart_delay``.
    """
    queue = ProcrastinateQueue(database_url, handlers, settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stopping.set)
    try:
        while not stopping.is_set():
            try:
                await _work_until(queue, stopping, concurrency=concurrency, name=name)
            except Exception:
                logger.exception("worker failed")
            if not stopping.is_set():
                logger.error("worker stopped; starting again in %s s", queue.settings.restart_delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), queue.settings.restart_delay)
    finally:
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)


async def _work_until(
    queue: ProcrastinateQueue, stopping: asyncio.Event, *, concurrency: int, name: str | None
) -> None:
    await queue.open()
    try:
        work = asyncio.create_task(
            queue.run_worker(concurrency=concurrency, name=name, install_signal_handlers=False)
        )
        stop = asyncio.create_task(stopping.wait())
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        work.cancel()  # a graceful stop: running jobs finish first
        with contextlib.suppress(asyncio.CancelledError):
            await work
    finally:
        await queue.close()
