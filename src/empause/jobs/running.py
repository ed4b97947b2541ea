"""The job queue an entry point uses, chosen by the database: procrastinate on PostgreSQL,
in-process on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy.engine import make_url

from empause.jobs.inprocess import InProcessQueue
from empause.jobs.ports import Handlers, JobQueue
from empause.jobs.procrastinate_queue import ProcrastinateQueue
from empause.jobs.settings import JobSettings


@contextlib.asynccontextmanager
async def job_queue(
    database_url: str,
    handlers: Handlers,
    *,
    worker: bool = True,
    concurrency: int = 4,
    settings: JobSettings | None = None,
) -> AsyncIterator[JobQueue]:
    """The queue for this database, open for the block; with ``worker`` (``empause serve``
    without ``--no-worker``) a worker runs in this process meanwhile, its running jobs
    finishing when the block ends. On SQLite jobs always run in this process."""
    if make_url(database_url).get_backend_name() != "postgresql":
        local = InProcessQueue(handlers, settings)
        await local.start()
        try:
            yield local
        finally:
            await local.stop()
        return
    queue = ProcrastinateQueue(database_url, handlers, settings)
    await queue.open()
    running = (
        asyncio.create_task(
            queue.run_worker(concurrency=concurrency, install_signal_handlers=False)
        )
        if worker
        else None
    )
    try:
        yield queue
    finally:
        if running is not None:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        await queue.close()


class _DeferOnly:
    """Handlers for a process that only defers jobs (the CLI): it never runs one."""

    async def run_operation(self, organization_id: str, operation_id: int) -> None:
        raise RuntimeError("this process only defers jobs")

    async def sweep(self, organization_id: str) -> None:
        raise RuntimeError("this process only defers jobs")

    async def paused_organizations(self) -> list[str]:
        return []

    async def fire_timers(self, organization_id: str) -> None:
        raise RuntimeError("this process only defers jobs")

    async def due_timers(self) -> list[str]:
        return []


async def defer_operation(database_url: str, organization_id: str, operation_id: int) -> bool:
    """Hand a begun operation to the workers (`empause pause --no-wait`). On SQLite there is
    no job database: False, and a running `empause serve` or `worker` takes it up within
    seconds from the journal (it looks for unfinished operations as it renews its watch)."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return False
    queue = ProcrastinateQueue(database_url, _DeferOnly())
    await queue.open()
    try:
        await queue.defer_operation(organization_id, operation_id)
    finally:
        await queue.close()
    return True


async def defer_timer(database_url: str, organization_id: str, when: datetime) -> bool:
    """Put a timed pause's timer in the job database (`empause pause --until/--at`). On
    SQLite False: a running `serve` or `worker` finds it in the database within
    `JobSettings.timer_check_interval`."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return False
    queue = ProcrastinateQueue(database_url, _DeferOnly())
    await queue.open()
    try:
        await queue.defer_timer(organization_id, when)
    finally:
        await queue.close()
    return True
