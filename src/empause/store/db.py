"""One place that turns a URL into an async engine and a session factory."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the CLI and the server share one file; busy_timeout makes writers wait, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


# Connections per process (PostgreSQL): a running operation holds one for its lock and
# briefly another to journal; background sweeps and the inbox take a few more.
POOL_SIZE, POOL_OVERFLOW = 5, 10


def make_engine(url: str, *, transactional_ddl: bool = False) -> AsyncEngine:
    """`transactional_ddl` is for migrations: the SQLite driver begins transactions only at
    the first write, so DDL before it commits at once and a migration killed half-way would
    leave half a schema. SQLAlchemy's documented recipe (no implicit BEGIN, an explicit one
    on begin) makes it all-or-nothing. Not for the app: a read that turns into a write
    inside such a transaction gets SQLITE_BUSY at once instead of waiting its turn.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if transactional_ddl:
            event.listen(engine.sync_engine, "connect", _driver_autocommit)
            event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # Each connection says which process it serves (pg_stat_activity, e.g. a lock's holder).
    name = f"empause-{os.getpid()}"
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
        connect_args={"server_settings": {"application_name": name}},
    )  # fmt: skip


class Database:
    """An engine and its session factory; sessions keep objects usable after commit."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )

    async def dispose(self) -> None:
        await self.engine.dispose()
