"""The organizations repository: rows in, `OrganizationConfig` out.

An organization's own settings (horizon, shift, strategy, timezone, ...) are kept as JSON on
its row and fall back to the installation's (EMPAUSE_*); its connection (base URL,
credentials) is read by the composition root, never by the engine.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from empause.config import Settings
from empause.domain import validation
from empause.domain.model import OperationStatus, Strategy
from empause.domain.organization import OrganizationConfig, PlatformName
from empause.store.models import (
    ApiKey,
    AuditEvent,
    InboxEvent,
    JournalEntry,
    Operation,
    Organization,
    Prescreening,
    User,
    WebSession,
)

# Settings an organization may override (`empause org set`), with their parsers.
DURATION_KEYS = ("horizon", "shift")
CHOICE_KEYS: dict[str, tuple[str, ...]] = {
    "strategy": tuple(s.value for s in Strategy),
    "held_action": ("hold", "reject"),
    "prescreen_when_normal": ("approve", "ignore"),
}
TEXT_KEYS = ("timezone", "notify")
SETTING_KEYS = (*DURATION_KEYS, *CHOICE_KEYS, *TEXT_KEYS)


class OrganizationError(ValueError):
    """An organization that cannot be added, found or removed; the message says why."""


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_setting(key: str, value: str) -> Any:
    """One organization setting from text (the CLI), validated by the domain's rules."""
    if key in DURATION_KEYS:
        try:
            asked = validation.pause_parameters(
                "setting", None, value if key == "horizon" else None,
                value if key == "shift" else None,
            )  # fmt: skip
        except validation.InvalidParameter as exc:
            raise OrganizationError(f"{key}: {exc.message}") from exc
        chosen = asked.horizon if key == "horizon" else asked.shift
        assert chosen is not None
        return int(chosen.total_seconds())
    if key in CHOICE_KEYS:
        if value not in CHOICE_KEYS[key]:
            raise OrganizationError(f"{key} must be one of {', '.join(CHOICE_KEYS[key])}")
        return value
    if key in TEXT_KEYS:
        if len(value) > 2000:
            raise OrganizationError(f"{key} is longer than 2000 characters")
        return value
    raise OrganizationError(f"unknown setting {key!r}: use one of {', '.join(SETTING_KEYS)}")


def config_of(row: Organization, defaults: Settings) -> OrganizationConfig:
    own: dict[str, Any] = dict(row.settings or {})

    def seconds(key: str, fallback: timedelta) -> timedelta:
        value = own.get(key)
        return timedelta(seconds=int(value)) if value is not None else fallback

    return OrganizationConfig(
        organization_id=row.id,
        platform=PlatformName(row.platform),
        emergency_team_id=row.emergency_team_id,
        name=row.name or "",
        horizon=seconds("horizon", defaults.horizon),
        shift=seconds("shift", defaults.shift),
        strategy=Strategy(own.get("strategy", Strategy.SHIFT.value)),
        timezone=str(own.get("timezone", "UTC")),
        concurrency=defaults.concurrency,
        rate_limit=defaults.rate_limit,
        held_action=own.get("held_action", defaults.held_action),
        prescreen_when_normal=own.get("prescreen_when_normal", defaults.prescreen_when_normal),
        fast_sweep_window=defaults.fast_sweep_window,
    )


async def rows(session: AsyncSession) -> list[Organization]:
    return list(await session.scalars(select(Organization).order_by(Organization.id)))


async def paused_and_idle(session: AsyncSession, among: set[str]) -> list[str]:
    """Which of these organizations are paused with no operation running."""
    running = select(Operation.id).where(
        Operation.organization_id == Organization.id,
        Operation.status == OperationStatus.RUNNING.value,
    )
    found = await session.scalars(
        select(Organization.id).where(
            Organization.id.in_(among), Organization.paused, ~running.exists()
        )
    )
    return list(found)


async def protected_ids(session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(Organization.id)))


async def ensure_default(session: AsyncSession, settings: Settings) -> Organization | None:
    """The organization named by EMPAUSE_ORGANIZATION_ID / EMPAUSE_EMERGENCY_TEAM_ID, registered
    on first use (so a single-organization installation needs no `org add`)."""
    if not settings.organization_id or not settings.emergency_team_id:
        return None
    row = await session.get(Organization, settings.organization_id)
    if row is None:
        row = Organization(
            id=settings.organization_id, platform=settings.platform,
            emergency_team_id=settings.emergency_team_id, settings={}, paused=False,
        )  # fmt: skip
        session.add(row)
        await session.flush()
    elif row.emergency_team_id != settings.emergency_team_id and row.base_url is None:
        row.emergency_team_id = settings.emergency_team_id  # the environment decides for it
    return row


ORGANIZATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_id(organization_id: str) -> str:
    if not ORGANIZATION_ID.fullmatch(organization_id):
        raise OrganizationError(
            f"organization id {organization_id[:80]!r}: use 1 to 64 letters, digits, - or _"
        )
    return organization_id


async def add(
    session: AsyncSession,
    *,
    organization_id: str,
    platform: PlatformName,
    emergency_team_id: str,
    name: str = "",
    base_url: str | None = None,
    credentials_enc: str | None = None,
    webhook_secret: str | None = None,
) -> Organization:
    check_id(organization_id)
    if await session.get(Organization, organization_id) is not None:
        raise OrganizationError(f"organization {organization_id} is already protected")
    row = Organization(
        id=organization_id, platform=platform.value, emergency_team_id=emergency_team_id,
        name=name, base_url=base_url, credentials_enc=credentials_enc, settings={},
        paused=False, webhook_secret_hash=secret_hash(webhook_secret) if webhook_secret else None,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def remove(session: AsyncSession, organization_id: str) -> None:
    """Stop protecting it: refused while paused or busy; its records go with it."""
    row = await session.get(Organization, organization_id)
    if row is None:
        raise OrganizationError(f"no organization {organization_id}")
    if row.paused:
        raise OrganizationError(
            f"organization {organization_id} is paused: resume it before removing it"
        )
    running = await session.scalar(
        select(Operation.id).where(
            Operation.organization_id == organization_id, Operation.status == OperationStatus.RUNNING.value
        )
    )
    if running is not None:
        raise OrganizationError(f"organization {organization_id} has operation {running} running")
    operations = select(Operation.id).where(Operation.organization_id == organization_id)
    await session.execute(delete(JournalEntry).where(JournalEntry.operation_id.in_(operations)))
    for model in (ApiKey, WebSession, Operation, User, AuditEvent, InboxEvent, Prescreening):
        await session.execute(delete(model).where(model.organization_id == organization_id))
    await session.delete(row)


async def update_settings(
    session: AsyncSession, organization_id: str, values: dict[str, Any]
) -> Organization:
    row = await session.get(Organization, organization_id)
    if row is None:
        raise OrganizationError(f"no organization {organization_id}")
    row.settings = {**(row.settings or {}), **values}
    return row


async def claim_lease(
    session: AsyncSession, organization_id: str, owner: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the watch of an organization for `ttl`; False while another live
    process holds it (one whose lease has not run out)."""
    result = await session.execute(
        update(Organization)
        .where(
            Organization.id == organization_id,
            or_(
                Organization.lease_owner == owner,
                Organization.lease_until.is_(None),
                Organization.lease_until < now,
            ),
        )
        .values(lease_owner=owner, lease_until=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_leases(session: AsyncSession, owner: str) -> None:
    """A process that stops hands its watches over at once."""
    await session.execute(
        update(Organization)
        .where(Organization.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


async def by_webhook_secret(
    session: AsyncSession, secret: str, settings: Settings
) -> str | None:
    """'*' for the installation's secret (events for any protected organization), the
    organization's id for its own secret, None for anything else."""
    if settings.webhook_secret and hmac.compare_digest(
        secret.encode(), settings.webhook_secret.encode()
    ):
        return "*"
    found = await session.scalar(
        select(Organization.id).where(Organization.webhook_secret_hash == secret_hash(secret))
    )
    return found


def describe(row: Organization) -> dict[str, Any]:
    """What `empause org list --json` shows (never credentials)."""
    return {
        "id": row.id,
        "name": row.name or "",
        "platform": row.platform,
        "emergency_team_id": row.emergency_team_id,
        "paused": bool(row.paused),
        "base_url": row.base_url,
        "settings": dict(row.settings or {}),
    }


