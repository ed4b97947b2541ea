"""Group commit for journal steps: one transaction carries many entries' progress.

Upstream runs at ~20 calls/s; a commit per call would make the database the bottleneck on
slow disks. `defer` is for steps whose loss a crash tolerates (a repeated DELETE answers
NotFound, a repeated create looks upstream first); `write` waits until the step is durable,
for the attempt counter that must be on disk before a create is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import update

from empause.domain.timeutil import utcnow
from empause.store.db import Database
from empause.store.models import JournalEntry, Operation


class JournalWriter:
    def __init__(
        self,
        db: Database,
        operation_id: int,
        operation_fields: Callable[[], dict[str, Any]] | None = None,
        interval: float = 0.05,
    ):
        self.db = db
        self.operation_id = operation_id
        self.operation_fields = operation_fields
        self.interval = interval
        self._pending: dict[int, dict[str, Any]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._closed = False

    async def __aenter__(self) -> JournalWriter:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._error is None:
            try:
                await self._commit()  # whatever is left (also on error), and the counters
            except Exception:
                if exc[0] is None:
                    raise
        if exc[0] is None:
            self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def defer(self, entry_id: int, **fields: Any) -> None:
        self._raise()
        self._pending.setdefault(entry_id, {}).update(fields)
        self._wake.set()

    async def write(self, entry_id: int, **fields: Any) -> None:
        """Durable on return."""
        self.defer(entry_id, **fields)
        await self.flush()

    async def flush(self) -> None:
        self._raise()
        if self._closed:
            await self._commit()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._wake.set()
        if self._task is not None and self._task.done():
            self._raise()
        await future

    async def _run(self) -> None:
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            if self._closed:
                break
            await asyncio.sleep(self.interval)  # let more steps join this transaction
            try:
                await self._commit()
            except BaseException as exc:
                self._error = exc
                for future in self._waiters:
                    if not future.done():
                        future.set_exception(exc)
                self._waiters.clear()
                raise

    async def _commit(self) -> None:
        pending, self._pending = self._pending, {}
        waiters, self._waiters = self._waiters, []
        now = utcnow()
        async with self.db.sessions() as session:
            # One statement per distinct set of columns (executemany by primary key).
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for entry_id, fields in pending.items():
                groups.setdefault(tuple(sorted(fields)), []).append(
                    {"id": entry_id, "updated_at": now, **fields}
                )
            for rows in groups.values():
                await session.execute(update(JournalEntry), rows)
            if self.operation_fields is not None:
                fields = self.operation_fields()
                if fields:
                    await session.execute(
                        update(Operation).where(Operation.id == self.operation_id).values(**fields)
                    )
            await session.commit()
        for future in waiters:
            if not future.done():
                future.set_result(None)
