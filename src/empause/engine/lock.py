"""One pause/resume/enforcement at a time per organization, across processes.

The running `Operation` row says *what* is unfinished; this lock says whether someone is
working on it right now. It must be released by the operating system or the database when
its holder dies (`kill -9`), so a restart can take over at once instead of waiting out a
lease timeout: a `flock` on a file beside a SQLite database (every process sharing a SQLite
file is on the same host), a session-level advisory lock on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from empause.store.db import Database

_LOCAL: set[tuple[str, str]] = set()  # in-memory databases: this process is the only user


class Busy(Exception):
    """Another pause, resume or sweep of this organization is running."""


def _key(organization_id: str) -> int:
    digest = hashlib.sha256(f"empause:organization:{organization_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class OrganizationLock:
    """`async with OrganizationLock(db, org, timeout=...)`: raises Busy after `timeout` s."""

    def __init__(self, db: Database, organization_id: str, timeout: float = 30.0):
        self.db = db
        self.organization_id = str(organization_id)
        self.timeout = timeout
        self._fd: int | None = None
        self._conn: AsyncConnection | None = None
        self._local: tuple[str, str] | None = None

    async def __aenter__(self) -> OrganizationLock:
        deadline = time.monotonic() + self.timeout
        delay = 0.02
        while not await self._try():
            if time.monotonic() >= deadline:
                raise Busy(
                    f"another pause or resume of organization {self.organization_id} "
                    "is in progress; try again when it finishes"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.release()

    async def _try(self) -> bool:
        url = make_url(self.db.url)
        if url.get_backend_name() == "sqlite":
            database = url.database or ""
            if database in ("", ":memory:") or database.startswith("file::memory"):
                return self._try_local()
            return self._try_file(Path(database))
        if url.get_backend_name() == "postgresql":
            return await self._try_advisory()
        return self._try_local()

    def _try_local(self) -> bool:
        key = (self.db.url, self.organization_id)
        if key in _LOCAL:
            return False
        _LOCAL.add(key)
        self._local = key
        return True

    def _try_file(self, database: Path) -> bool:
        path = database.with_name(f"{database.name}.org-{self.organization_id}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # per open file: works in-process too
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def _try_advisory(self) -> bool:
        conn = await self.db.engine.connect()
        try:
            got = (
                await conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(self.organization_id)}
                )
            ).scalar()
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _key(self.organization_id)}
                )
                await conn.commit()
            except BaseException:
                await conn.invalidate()  # never hand a locked session back to the pool
                raise
            finally:
                await conn.close()
        if self._local is not None:
            _LOCAL.discard(self._local)
            self._local = None
