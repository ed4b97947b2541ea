"""The dashboard's reads and its few writes of its own (users, API keys, audit events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.timeutil import utcnow
from empause.store.db import Database
from empause.store.models import (
    ApiKey,
    AuditEvent,
    JournalEntry,
    Organization,
    User,
)

API_KEY_NAME_MAX = 100  # characters of an API key's name (dashboard and CLI)


async def ensure_organization(
    session: AsyncSession, organization_id: str, emergency_team_id: str
) -> Organization:
    """The organization row (created on first use: users and keys belong to it)."""
    org = await session.get(Organization, organization_id)
    if org is None:
        org = Organization(id=organization_id, emergency_team_id=emergency_team_id)
        session.add(org)
        await session.flush()
    return org


async def is_paused(db: Database, organization_id: str) -> bool:
    async with db.sessions() as session:
        org = await session.get(Organization, organization_id)
        return bool(org and org.paused)


async def journal(session: AsyncSession, operation_id: int, limit: int = 500) -> list[JournalEntry]:
    rows = await session.scalars(
        select(JournalEntry)
        .where(JournalEntry.operation_id == operation_id)
        .order_by(JournalEntry.original_time, JournalEntry.id)
        .limit(limit)
    )
    return list(rows)


async def audit_events(
    session: AsyncSession, organization_id: str, limit: int | None = 200
) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.organization_id == organization_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))


def audit(
    session: AsyncSession, organization_id: str, actor: str, action: str, **detail: Any
) -> None:
    session.add(
        AuditEvent(organization_id=organization_id, actor=actor, action=action, detail=detail)
    )


async def upsert_user(
    session: AsyncSession, organization_id: str, member_id: str, **fields: Any
) -> User:
    user = await user_by_member(session, organization_id, member_id)
    if user is None:
        user = User(organization_id=organization_id, member_id=member_id)
        session.add(user)
    for key, value in fields.items():
        setattr(user, key, value)
    user.last_login_at = utcnow()
    await session.flush()
    return user


async def user_by_member(
    session: AsyncSession, organization_id: str, member_id: str
) -> User | None:
    return await session.scalar(
        select(User).where(User.organization_id == organization_id, User.member_id == member_id)
    )


async def api_keys(session: AsyncSession, organization_id: str) -> list[tuple[ApiKey, str]]:
    """Every key with its creator's name, newest first (revoked ones stay, for the record)."""
    rows = await session.execute(
        select(ApiKey, User.full_name, User.email)
        .join(User, User.id == ApiKey.created_by)
        .where(ApiKey.organization_id == organization_id)
        .order_by(ApiKey.id.desc())
    )
    return [(key, name or email) for key, name, email in rows.all()]


async def api_key_by_hash(session: AsyncSession, key_hash: str) -> tuple[ApiKey, User] | None:
    row = (
        await session.execute(
            select(ApiKey, User)
            .join(User, User.id == ApiKey.created_by)
            .where(ApiKey.key_hash == key_hash)
        )
    ).first()
    return (row[0], row[1]) if row else None


def revoke(key: ApiKey, when: datetime | None = None) -> None:
    key.revoked_at = when or utcnow()
