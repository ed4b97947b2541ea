"""The procrastinate job queue on a real PostgreSQL, with workers in this process and in
real worker processes (the kill test)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from empause.jobs import JobSettings, ProcrastinateQueue, job_queue
from empause.jobs.postgres import conninfo, ensure_schema
from tests.jobs.recording import RecordingHandlers, create_tables

ROOT = Path(__file__).resolve().parents[2]


async def rows(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(conninfo(database_url)) as db:
        cursor = await db.execute(query, params)
        return await cursor.fetchall()


async def execute(database_url: str, statement: str) -> None:
    async with await psycopg.AsyncConnection.connect(conninfo(database_url)) as db:
        await db.execute(statement)  # type: ignore[arg-type]  # a literal in each test


async def eventually(check: Callable[[], Awaitable[bool]], within: float) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def worker(
    database_url: str, handlers: RecordingHandlers, settings: JobSettings, concurrency: int
) -> AsyncIterator[ProcrastinateQueue]:
    """An open queue and a worker running in this process until the block ends."""
    await create_tables(database_url)
    queue = ProcrastinateQueue(database_url, handlers, settings)
    await queue.open()
    task = asyncio.create_task(
        queue.run_worker(concurrency=concurrency, install_signal_handlers=False)
    )
    try:
        yield queue
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await queue.close()


async def start_workers(
    database_url: str, logs: Path, steps: int, step_seconds: float, *options: str
) -> list[asyncio.subprocess.Process]:
    """Two worker processes (``tests.jobs.fake_worker``), once both are registered."""
    processes = [
        await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "tests.jobs.fake_worker", database_url),
            *(str(steps), str(step_seconds), *options),
            cwd=ROOT,
            stdout=(logs / f"worker{n}.log").open("w"),
            stderr=asyncio.subprocess.STDOUT,
        )
        for n in (1, 2)
    ]

    async def both_workers_up() -> bool:
        up = await rows(database_url, "SELECT count(*) FROM procrastinate_workers")
        return bool(up[0][0] == 2)

    await eventually(both_workers_up, within=20)
    return processes


async def stop_workers(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
    await asyncio.wait_for(asyncio.gather(*(p.wait() for p in processes)), 20)


def test_conninfo_from_our_sqlalchemy_url() -> None:
    dsn = conninfo("postgresql+asyncpg://me:s3cret@db.internal:6543/empause?ssl=require")
    assert psycopg.conninfo.conninfo_to_dict(dsn) == {
        "host": "db.internal",
        "port": "6543",
        "user": "me",
        "password": "s3cret",
        "dbname": "empause",
        "sslmode": "require",
    }
    with pytest.raises(ValueError):
        conninfo("sqlite+aiosqlite:///empause.db")


async def test_concurrent_starters_apply_the_schema_once(jobs_database_url: str) -> None:
    dsn = conninfo(jobs_database_url)
    applied = await asyncio.gather(*(ensure_schema(dsn) for _ in range(4)))
    assert sorted(applied) == [False, False, False, True]
    assert await ensure_schema(dsn) is False
    tables = await rows(jobs_database_url, "SELECT to_regclass('procrastinate_jobs')::text")
    assert tables == [("procrastinate_jobs",)]


async def test_operations_run_one_at_a_time_per_organization_organizations_in_parallel(
    jobs_database_url: str,
) -> None:
    handlers = RecordingHandlers(jobs_database_url, steps=2, step_seconds=0.4)
    async with worker(jobs_database_url, handlers, JobSettings(), concurrency=4) as queue:
        for operation_id in (1, 2, 3):
            await queue.defer_operation("a", operation_id)
            await queue.defer_operation("b", operation_id)

        async def six_completed() -> bool:
            done = await rows(jobs_database_url, "SELECT count(*) FROM completions")
            return bool(done[0][0] == 6)

        await eventually(six_completed, within=20)

    calls = await rows(
        jobs_database_url,
        "SELECT organization_id, started_at, finished_at FROM calls ORDER BY started_at",
    )
    assert len(calls) == 6
    by_organization: dict[str, list[tuple[datetime, datetime]]] = {"a": [], "b": []}
    for organization_id, started, finished in calls:
        by_organization[organization_id].append((started, finished))
    for intervals in by_organization.values():  # never two at once in one organization
        for (_, finished), (started, _) in itertools.pairwise(intervals):
            assert started >= finished
    overlaps = [  # while the two organizations run side by side
        (a, b)
        for a in by_organization["a"]
        for b in by_organization["b"]
        if a[0] < b[1] and b[0] < a[1]
    ]
    assert len(overlaps) >= 2


async def test_deferring_an_operation_twice_queues_one_job(jobs_database_url: str) -> None:
    queue = ProcrastinateQueue(jobs_database_url, RecordingHandlers(jobs_database_url))
    await queue.open()
    try:
        await queue.defer_operation("a", 1)
        await queue.defer_operation("a", 1)
        await queue.defer_operation("a", 2)
        await queue.defer_sweep("a")
        await queue.defer_sweep("a")
    finally:
        await queue.close()
    jobs = await rows(
        jobs_database_url,
        "SELECT task_name, lock, args->>'operation_id' FROM procrastinate_jobs ORDER BY id",
    )
    assert jobs == [
        ("empause.run_operation", "organization:a", "1"),
        ("empause.run_operation", "organization:a", "2"),
        ("empause.sweep", "organization:a", None),
    ]


async def test_a_failed_operation_is_retried_after_a_delay(jobs_database_url: str) -> None:
    handlers = RecordingHandlers(jobs_database_url, failures=1)
    settings = JobSettings(retry_first_delay=1)
    async with worker(jobs_database_url, handlers, settings, concurrency=1) as queue:
        await queue.defer_operation("a", 1)

        async def completed() -> bool:
            return bool(await rows(jobs_database_url, "SELECT 1 FROM completions"))

        await eventually(completed, within=15)
    calls = await rows(jobs_database_url, "SELECT started_at FROM calls ORDER BY id")
    assert len(calls) == 2
    assert (calls[1][0] - calls[0][0]).total_seconds() >= settings.retry_delay(0)


async def test_paused_organizations_are_swept_periodically(jobs_database_url: str) -> None:
    handlers = RecordingHandlers(jobs_database_url, paused=["a", "b"])
    settings = JobSettings(sweep_interval=1)
    async with worker(jobs_database_url, handlers, settings, concurrency=2):

        async def both_swept_twice() -> bool:
            swept = await rows(
                jobs_database_url,
                "SELECT organization_id FROM calls WHERE kind = 'sweep'"
                " GROUP BY organization_id HAVING count(*) >= 2",
            )
            return len(swept) == 2

        await eventually(both_swept_twice, within=10)


async def test_a_killed_workers_operation_is_finished_by_another_worker(
    jobs_database_url: str, tmp_path: Path
) -> None:
    steps, step_seconds = 6, 0.4
    await create_tables(jobs_database_url)
    queue = ProcrastinateQueue(jobs_database_url, RecordingHandlers(jobs_database_url))
    await queue.open()
    processes = await start_workers(jobs_database_url, tmp_path, steps, step_seconds)
    try:

        await queue.defer_operation("a", 1)

        async def two_steps_done() -> bool:
            return len(await rows(jobs_database_url, "SELECT 1 FROM progress")) >= 2

        await eventually(two_steps_done, within=10)
        [(victim,)] = await rows(jobs_database_url, "SELECT DISTINCT pid FROM progress")
        os.kill(victim, signal.SIGKILL)
        [(killed_at,)] = await rows(jobs_database_url, "SELECT clock_timestamp()")

        async def completed() -> bool:
            return bool(await rows(jobs_database_url, "SELECT 1 FROM completions"))

        await eventually(completed, within=20)
        await asyncio.sleep(1)  # a second completion would show up by now
        completions = await rows(jobs_database_url, "SELECT pid, at FROM completions")
        progress = await rows(jobs_database_url, "SELECT step, pid, at FROM progress ORDER BY at")
    finally:
        await queue.close()
        await stop_workers(processes)

    survivor = next(p.pid for p in processes if p.pid != victim)
    [(completed_by, completed_at)] = completions  # exactly one completion
    assert completed_by == survivor
    assert [step for step, _, _ in progress] == list(range(steps))  # resumed, none twice
    resumed_at = next(at for _, pid, at in progress if pid == survivor)
    takeover = (resumed_at - timedelta(seconds=step_seconds) - killed_at).total_seconds()
    finish = (completed_at - killed_at).total_seconds()
    print(f"takeover {takeover:.2f} s after SIGKILL, finished {finish:.2f} s after it")
    assert finish < 15



async def test_a_frozen_workers_operation_is_not_run_twice_at_once(
    jobs_database_url: str, tmp_path: Path
) -> None:
    """A worker that stops heartbeating but is alive (SIGSTOP: a frozen VM, a long pause)
    has its job put back and fetched by another worker, which waits for the frozen one's
    organization lock instead of running the operation beside it."""
    steps, step_seconds, stalled_after = 6, 0.4, "2"
    await create_tables(jobs_database_url)
    queue = ProcrastinateQueue(jobs_database_url, RecordingHandlers(jobs_database_url))
    await queue.open()
    processes = await start_workers(
        jobs_database_url, tmp_path, steps, step_seconds, stalled_after
    )
    try:
        await queue.defer_operation("a", 1)

        async def two_steps_done() -> bool:
            return len(await rows(jobs_database_url, "SELECT 1 FROM progress")) >= 2

        await eventually(two_steps_done, within=10)
        [(frozen,)] = await rows(jobs_database_url, "SELECT DISTINCT pid FROM progress")
        os.kill(frozen, signal.SIGSTOP)

        async def taken_over() -> bool:  # put back and fetched by the other worker
            jobs = await rows(
                jobs_database_url,
                "SELECT 1 FROM procrastinate_jobs WHERE status = 'doing' AND attempts > 0",
            )
            return bool(jobs)

        await eventually(taken_over, within=15)
        await asyncio.sleep(1)
        working = await rows(jobs_database_url, "SELECT DISTINCT pid FROM progress")
        assert working == [(frozen,)]  # the other worker waits for the organization lock
        os.kill(frozen, signal.SIGCONT)

        async def both_calls_finished() -> bool:
            finished = await rows(
                jobs_database_url, "SELECT 1 FROM calls WHERE finished_at IS NOT NULL"
            )
            return len(finished) == 2

        await eventually(both_calls_finished, within=15)
        completions = await rows(jobs_database_url, "SELECT pid FROM completions")
        progress = await rows(jobs_database_url, "SELECT step, pid FROM progress ORDER BY at")
        await queue.defer_operation("b", 1)  # both workers still work

        async def b_completed() -> bool:
            done = await rows(
                jobs_database_url, "SELECT 1 FROM completions WHERE organization_id = 'b'"
            )
            return bool(done)

        await eventually(b_completed, within=10)
    finally:
        await queue.close()
        await stop_workers(processes)
    assert completions == [(frozen,)]
    assert progress == [(step, frozen) for step in range(steps)]


async def test_a_worker_that_stops_on_a_database_error_starts_again(
    jobs_database_url: str, tmp_path: Path
) -> None:
    """procrastinate stops a worker whose heartbeat fails; ``run_worker`` starts it again."""
    await create_tables(jobs_database_url)
    queue = ProcrastinateQueue(jobs_database_url, RecordingHandlers(jobs_database_url))
    await queue.open()
    processes = await start_workers(jobs_database_url, tmp_path, 1, 0.0)
    try:
        # Heartbeats fail while procrastinate's table of workers is missing.
        await execute(jobs_database_url, "ALTER TABLE procrastinate_workers RENAME TO gone")
        await asyncio.sleep(3)
        await execute(jobs_database_url, "ALTER TABLE gone RENAME TO procrastinate_workers")
        await queue.defer_operation("a", 1)

        async def completed() -> bool:
            return bool(await rows(jobs_database_url, "SELECT 1 FROM completions"))

        await eventually(completed, within=15)
        assert all(process.returncode is None for process in processes)
    finally:
        await queue.close()
        await stop_workers(processes)
    assert all(process.returncode == 0 for process in processes)
    logs = "".join((tmp_path / f"worker{n}.log").read_text() for n in (1, 2))
    assert logs.count("worker stopped; starting again") >= 2


async def test_job_queue_runs_a_worker_in_this_process_unless_told_not_to(
    jobs_database_url: str,
) -> None:
    await create_tables(jobs_database_url)
    handlers = RecordingHandlers(jobs_database_url)

    async def completed() -> bool:
        return bool(await rows(jobs_database_url, "SELECT 1 FROM completions"))

    async with job_queue(jobs_database_url, handlers, worker=False) as queue:
        assert isinstance(queue, ProcrastinateQueue)
        await queue.defer_operation("a", 1)
        await asyncio.sleep(1.5)
        assert not await completed()
    async with job_queue(jobs_database_url, handlers) as queue:
        await eventually(completed, within=10)
