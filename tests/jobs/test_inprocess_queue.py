"""The in-process job queue (SQLite, the demo): same properties as on PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from empause.jobs import InProcessQueue, JobSettings, job_queue


@dataclass
class Call:
    kind: str
    organization_id: str
    operation_id: int | None
    started: float
    finished: float | None = None


@dataclass
class MemoryHandlers:
    seconds: float = 0.0
    failures: int = 0
    paused: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    async def run_operation(self, organization_id: str, operation_id: int) -> None:
        await self._record("operation", organization_id, operation_id)

    async def sweep(self, organization_id: str) -> None:
        await self._record("sweep", organization_id, None)

    async def paused_organizations(self) -> list[str]:
        return self.paused

    async def _record(self, kind: str, organization_id: str, operation_id: int | None) -> None:
        call = Call(kind, organization_id, operation_id, time.monotonic())
        self.calls.append(call)
        await asyncio.sleep(self.seconds)
        if len(self.calls) <= self.failures:
            raise RuntimeError("injected failure")
        call.finished = time.monotonic()


@pytest.fixture
async def started() -> AsyncIterator[list[InProcessQueue]]:
    queues: list[InProcessQueue] = []
    yield queues
    for queue in queues:
        await queue.stop()


async def start(
    queues: list[InProcessQueue], handlers: MemoryHandlers, settings: JobSettings
) -> InProcessQueue:
    queue = InProcessQueue(handlers, settings)
    await queue.start()
    queues.append(queue)
    return queue


async def test_one_operation_per_organization_at_a_time_organizations_in_parallel(
    started: list[InProcessQueue],
) -> None:
    handlers = MemoryHandlers(seconds=0.1)
    queue = await start(started, handlers, JobSettings())
    for operation_id in (1, 2, 3):
        await queue.defer_operation("a", operation_id)
        await queue.defer_operation("b", operation_id)
    await queue.join()

    assert len(handlers.calls) == 6
    for organization_id in ("a", "b"):
        mine = [c for c in handlers.calls if c.organization_id == organization_id]
        assert [c.operation_id for c in mine] == [1, 2, 3]
        for before, after in itertools.pairwise(mine):
            assert before.finished is not None and after.started >= before.finished
    a, b = ([c for c in handlers.calls if c.organization_id == o] for o in ("a", "b"))
    for x, y in zip(a, b, strict=True):  # the n-th operations of a and b ran side by side
        assert x.finished is not None and y.finished is not None
        assert x.started < y.finished and y.started < x.finished


async def test_deferring_twice_before_it_starts_runs_once(
    started: list[InProcessQueue],
) -> None:
    handlers = MemoryHandlers(seconds=0.05)
    queue = await start(started, handlers, JobSettings())
    await queue.defer_operation("a", 1)  # starts at once
    await queue.defer_operation("a", 2)  # waits for the lock
    await queue.defer_operation("a", 2)
    await queue.defer_sweep("a")
    await queue.defer_sweep("a")
    await queue.join()
    assert [(c.kind, c.operation_id) for c in handlers.calls] == [
        ("operation", 1),
        ("operation", 2),
        ("sweep", None),
    ]


async def test_a_failed_operation_is_retried_after_a_delay(
    started: list[InProcessQueue],
) -> None:
    handlers = MemoryHandlers(failures=1)
    settings = JobSettings(retry_first_delay=1)
    queue = await start(started, handlers, settings)
    await queue.defer_operation("a", 1)
    await queue.join()
    first, second = handlers.calls
    assert first.finished is None and second.finished is not None
    assert second.started - first.started >= settings.retry_delay(0)


async def test_paused_organizations_are_swept_periodically(
    started: list[InProcessQueue],
) -> None:
    handlers = MemoryHandlers(paused=["a", "b"])
    began = time.monotonic()
    await start(started, handlers, JobSettings(sweep_interval=1))
    while len(handlers.calls) < 4:
        assert time.monotonic() - began < 5, "not swept"
        await asyncio.sleep(0.05)
    swept = sorted(c.organization_id for c in handlers.calls if c.kind == "sweep")
    assert swept == ["a", "a", "b", "b"]
    assert handlers.calls[2].started - handlers.calls[0].started >= 0.9  # once a second


async def test_stop_cancels_running_jobs(started: list[InProcessQueue]) -> None:
    handlers = MemoryHandlers(seconds=60)
    queue = InProcessQueue(handlers)
    await queue.start()
    await queue.defer_operation("a", 1)
    await asyncio.sleep(0.05)
    await asyncio.wait_for(queue.stop(), timeout=1)
    assert [c.finished for c in handlers.calls] == [None]


async def test_job_queue_on_sqlite_runs_jobs_in_process(tmp_path: Path) -> None:
    handlers = MemoryHandlers()
    url = f"sqlite+aiosqlite:///{tmp_path / 'empause.db'}"
    async with job_queue(url, handlers, worker=False) as queue:
        assert isinstance(queue, InProcessQueue)
        await queue.defer_operation("a", 1)
        await queue.join()
    assert [c.operation_id for c in handlers.calls] == [1]
