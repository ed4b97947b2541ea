"""The store on a real database: migrations, aware UTC times, constraints that protect the journal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from empause.store.db import Database
from empause.store.migrate import upgrade
from empause.store.models import Base, InboxEvent, JournalEntry, Operation, Organization

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_migrations_create_every_table_and_rerun_harmlessly(db: Database):
    await asyncio.to_thread(upgrade, db.url)  # second run: nothing to do, nothing broken
    async with db.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


async def test_a_migration_that_fails_half_way_leaves_no_half_made_schema(tmp_path: Path):
    """Killed or failing mid-way, a migration must be all-or-nothing (SQLite included), or
    the next `db upgrade` fails on tables that already exist."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'half.db'}"
    db = Database(url)
    async with db.engine.begin() as conn:  # makes the migration fail after earlier tables
        await conn.exec_driver_sql("CREATE TABLE users (id INTEGER)")
    with pytest.raises(OperationalError, match="already exists"):
        await asyncio.to_thread(upgrade, url)
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    await db.dispose()
    assert tables == ["users"]


async def _seed_operation(session: AsyncSession) -> Operation:
    session.add(Organization(id="832420", emergency_team_id="501006"))
    await session.flush()  # no ORM relationships: parents are flushed first by hand
    op = Operation(organization_id="832420", kind="pause", strategy="shift")
    session.add(op)
    await session.commit()
    return op


async def test_times_come_back_aware_utc_and_json_intact(db: Database):
    original = {"id": "m1", "text": "héllo", "tags": ["a"], "targeting": {"facebookPage": {}}}
    async with db.sessions() as session:
        op = await _seed_operation(session)
        local = T0.astimezone(ZoneInfo("America/Vancouver"))
        session.add(
            JournalEntry(
                operation_id=op.id,
                organization_id="832420",
                message_id="m1",
                original_time=local,
                new_time=local + timedelta(days=7),
                original_json=original,
            )
        )
        await session.commit()
    async with db.sessions() as session:
        entry = (await session.execute(select(JournalEntry))).scalar_one()
        assert entry.original_time == T0 and entry.original_time.tzinfo is not None
        assert entry.new_time == T0 + timedelta(days=7)
        assert entry.original_json == original
        assert entry.step == "planned"


async def test_naive_times_are_refused(db: Database):
    async with db.sessions() as session:
        op = await _seed_operation(session)
        session.add(
            JournalEntry(
                operation_id=op.id,
                organization_id="832420",
                message_id="m1",
                original_time=datetime(2026, 1, 1),
                original_json={},
            )
        )
        with pytest.raises(Exception, match="naive"):
            await session.commit()


async def test_a_message_is_journaled_once_per_operation(db: Database):
    async with db.sessions() as session:
        op = await _seed_operation(session)
        for _ in range(2):
            session.add(
                JournalEntry(
                    operation_id=op.id,
                    organization_id="832420",
                    message_id="m1",
                    original_time=T0,
                    original_json={},
                )
            )
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_webhook_inbox_ignores_duplicate_deliveries(db: Database):
    def event(seq: str) -> InboxEvent:
        return InboxEvent(
            event_type="com.hootsuite.messages.event.v1",
            message_id="42",
            state="PENDING_APPROVAL",
            seq_no=seq,
            payload={},
        )

    async with db.sessions() as session:
        session.add(event("1"))
        await session.commit()
        session.add(event("1"))
        with pytest.raises(IntegrityError):
            await session.commit()
        await session.rollback()
        session.add(event("2"))
        await session.commit()


async def test_a_session_rolls_back_on_error(db: Database):
    with pytest.raises(RuntimeError):
        async with db.sessions() as session:
            session.add(Organization(id="1", emergency_team_id="2"))
            await session.flush()
            raise RuntimeError("boom")
    async with db.sessions() as session:
        assert (await session.execute(select(Organization))).first() is None
