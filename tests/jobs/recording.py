"""Fake handlers that record every call in PostgreSQL tables, by the database's clock.

``run_operation`` behaves like the engine's recovery: it resumes from its last recorded
step and records one completion, checking before it does (no unique constraint hides a
second one), so overlapping or repeated runs show up in the tables.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

import psycopg

from empause.jobs.postgres import conninfo, held_lock
from empause.jobs.settings import organization_lock

TABLES = """
CREATE TABLE IF NOT EXISTS calls (
    id serial PRIMARY KEY, kind text, organization_id text, operation_id int, pid int,
    started_at timestamptz DEFAULT clock_timestamp(), finished_at timestamptz);
CREATE TABLE IF NOT EXISTS progress (
    organization_id text, operation_id int, step int, pid int,
    at timestamptz DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS completions (
    organization_id text, operation_id int, pid int,
    at timestamptz DEFAULT clock_timestamp());
"""


async def create_tables(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(conninfo(database_url)) as connection:
        await connection.execute(TABLES)


class RecordingHandlers:
    def __init__(
        self,
        database_url: str,
        *,
        steps: int = 1,
        step_seconds: float = 0.0,
        failures: int = 0,
        paused: Sequence[str] = (),
    ) -> None:
        self._dsn = conninfo(database_url)
        self._steps = steps
        self._step_seconds = step_seconds
        self._failures = failures  # the first calls of run_operation fail
        self._paused = list(paused)

    async def run_operation(self, organization_id: str, operation_id: int) -> None:
        async with await psycopg.AsyncConnection.connect(self._dsn, autocommit=True) as db:
            call_id = await self._start(db, "operation", organization_id, operation_id)
            if call_id <= self._failures:
                raise RuntimeError(f"injected failure of call {call_id}")
            # Like the engine, the handler holds the organization's lock while it works.
            async with held_lock(self._dsn, organization_lock(organization_id)):
                await self._work(db, organization_id, operation_id)
            await self._finish(db, call_id)

    async def _work(
        self, db: psycopg.AsyncConnection[tuple[int]], organization_id: str, operation_id: int
    ) -> None:
        key = (organization_id, operation_id)
        done = await db.execute(
            "SELECT count(*) FROM completions WHERE organization_id = %s AND operation_id = %s",
            key,
        )
        if (await done.fetchone() or (0,))[0]:
            return
        last = await db.execute(
            "SELECT coalesce(max(step), -1) FROM progress WHERE organization_id = %s"
            " AND operation_id = %s",
            key,
        )
        for step in range((await last.fetchone() or (-1,))[0] + 1, self._steps):
            await asyncio.sleep(self._step_seconds)
            await db.execute(
                "INSERT INTO progress (organization_id, operation_id, step, pid)"
                " VALUES (%s, %s, %s, %s)",
                (*key, step, os.getpid()),
            )
        await db.execute(
            "INSERT INTO completions (organization_id, operation_id, pid) VALUES (%s, %s, %s)",
            (*key, os.getpid()),
        )

    async def sweep(self, organization_id: str) -> None:
        async with await psycopg.AsyncConnection.connect(self._dsn, autocommit=True) as db:
            call_id = await self._start(db, "sweep", organization_id, None)
            await asyncio.sleep(self._step_seconds)
            await self._finish(db, call_id)

    async def paused_organizations(self) -> list[str]:
        return self._paused

    async def fire_timers(self, organization_id: str) -> None:
        """No timers in these tests."""

    async def due_timers(self) -> list[str]:
        return []

    async def _start(
        self,
        db: psycopg.AsyncConnection[tuple[int]],
        kind: str,
        organization_id: str,
        operation_id: int | None,
    ) -> int:
        cursor = await db.execute(
            "INSERT INTO calls (kind, organization_id, operation_id, pid)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            (kind, organization_id, operation_id, os.getpid()),
        )
        row = await cursor.fetchone()
        assert row is not None
        return row[0]

    async def _finish(self, db: psycopg.AsyncConnection[tuple[int]], call_id: int) -> None:
        await db.execute(
            "UPDATE calls SET finished_at = clock_timestamp() WHERE id = %s", (call_id,)
        )
