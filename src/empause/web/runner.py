"""Runs engine operations in the background so a button press returns at once.

Operations run one at a time (a resume pressed mid-pause waits for the pause to finish);
progress is read from the database, where the engine keeps it, so a pause started by the CLI
shows up just the same. Recovery runs at start-up; a sweep runs periodically while paused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from empause.web import metrics, queries

log = logging.getLogger(__name__)


SWEEPERS = ("sweeper", "fast-sweeper")
FAST_SWEEP_LOCK_WAIT = 0.25  # seconds: a busy organization is swept at the next tick


class OperationRunner:
    def __init__(
        self,
        engine: Any,
        db: Any,
        organization_id: str,
        sweep_interval: float,
        fast_sweep_interval: float,
        fast_sweep_window: timedelta,
    ):
        self._engine = engine
        self._db = db
        self._organization_id = organization_id
        self._sweep_interval = max(1.0, sweep_interval)
        self._fast_sweep_interval = fast_sweep_interval
        self._fast_sweep_window = fast_sweep_window
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def busy(self) -> bool:
        """An operation is queued or running (the idle sweeper loops do not count)."""
        return any(not t.done() and t.get_name() not in SWEEPERS for t in self._tasks)

    def _spawn(self, name: str, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, kind: str, call: Callable[[], Awaitable[Any]]) -> Any:
        async with self._lock:
            started = time.monotonic()
            outcome = "error"
            try:
                result = await call()
                outcome = "ok"
                log.info("operation finished", extra={"kind": kind, "result": result})
                return result
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            except Exception:
                log.exception("operation failed", extra={"kind": kind})
            finally:
                metrics.OPERATION_SECONDS.labels(kind, outcome).observe(time.monotonic() - started)

    def pause(self, *, source: str, **kwargs: Any) -> asyncio.Task[Any]:
        metrics.OPERATIONS.labels("pause", source).inc()
        return self._spawn("pause", self._run("pause", lambda: self._engine.pause(**kwargs)))

    def resume(self, *, source: str, **kwargs: Any) -> asyncio.Task[Any]:
        metrics.OPERATIONS.labels("resume", source).inc()
        return self._spawn("resume", self._run("resume", lambda: self._engine.resume(**kwargs)))

    def start(self) -> None:
        """Finish what a crash interrupted, then keep sweeping while paused."""
        self._spawn("recover", self._run("recover", self._engine.recover))
        self._spawn("sweeper", self._sweeper(self._sweep_interval, self._sweep))
        if self._fast_sweep_interval > 0:
            self._spawn("fast-sweeper", self._sweeper(self._fast_sweep_interval, self._fast_sweep))

    async def _sweep(self) -> None:
        await self._run("sweep", self._engine.sweep)

    async def _fast_sweep(self) -> None:
        """Not queued behind operations (self._lock): it must run while a flood keeps the
        inbox busy; the organization lock, tried briefly, keeps it out of a running pause."""
        result = await self._engine.sweep(
            window=self._fast_sweep_window, lock_wait=FAST_SWEEP_LOCK_WAIT
        )
        if result.get("moved") or result.get("pushed_again"):
            log.info("fast sweep moved messages", extra={"result": result})

    async def _sweeper(self, interval: float, sweep: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                if await queries.is_paused(self._db, self._organization_id):
                    await sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweep failed")

    async def stop(self, grace: float = 5.0) -> None:
        """Let running operations finish briefly, then cancel: the journal makes that safe."""
        tasks = [t for t in self._tasks if not t.done()]
        sweepers = [t for t in tasks if t.get_name() in SWEEPERS]
        for task in sweepers:
            task.cancel()
        others = [t for t in tasks if t not in sweepers]
        if others:
            _done, pending = await asyncio.wait(others, timeout=grace)
            for task in pending:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
