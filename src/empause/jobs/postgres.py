"""PostgreSQL plumbing for the job queue: connection string, schema, organization locks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from procrastinate.schema import SchemaManager
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

# asyncpg spells some connection options differently from libpq.
_OPTION_NAMES = {"ssl": "sslmode"}
# Taken by whoever applies procrastinate's schema, so concurrent starters apply it once.
_SCHEMA_LOCK = "empause:procrastinate-schema"


def conninfo(database_url: str) -> str:
    """The libpq connection string for our SQLAlchemy URL (``postgresql+asyncpg://...``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"jobs in a database need PostgreSQL, not {url.get_backend_name()}")
    params: dict[str, str | int | None] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    for key, value in url.query.items():
        params[_OPTION_NAMES.get(key, key)] = value if isinstance(value, str) else value[-1]
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


async def ensure_schema(dsn: str) -> bool:
    """Apply procrastinate's schema unless present; True when this call applied it.

    Safe with any number of concurrent starters: the check and the DDL run in one
    transaction under an advisory lock.
    """
    async with await psycopg.AsyncConnection.connect(dsn) as connection:
        async with connection.transaction():
            await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_SCHEMA_LOCK,)
            )
            cursor = await connection.execute("SELECT to_regclass('procrastinate_jobs')")
            row = await cursor.fetchone()
            if row is not None and row[0] is not None:
                return False
            await connection.execute(SchemaManager.get_schema())
            return True


@asynccontextmanager
async def held_lock(dsn: str, name: str) -> AsyncIterator[None]:
    """Hold a session advisory lock named ``name`` on a connection of its own.

    procrastinate's job lock alone is not exclusive once stalled-job recovery has put a
    job back: a worker that is slow rather than dead could still be running it. This lock
    is: PostgreSQL releases it only when the holder lets go or its connection dies (a
    killed process's socket closes at once), so a takeover waits for a live holder.
    """
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        await connection.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (name,))
        try:
            yield
        finally:
            if not connection.closed:
                await connection.execute(
                    "SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (name,)
                )
