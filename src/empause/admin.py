"""Operators' commands: API keys and sessions from a terminal, without a browser.

`empause api-key create` refuses a member who is not in the emergency team *upstream*, right
now (invariant 6): the key acts with its creator's authority, which every API call checks
again. Errors end in one line on stderr and a non-zero exit code, as in engine/commands.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from empause.config import Settings
from empause.engine.commands import (
    EXIT_AUTH,
    EXIT_OTHER,
    EXIT_UPSTREAM,
    EXIT_USAGE,
    _fail,
    _settings,
)
from empause.platforms.membership import MembershipChecker, MembershipUnavailable
from empause.store.db import Database
from empause.store.migrate import upgrade
from empause.store.models import ApiKey, User
from empause.web import crypto, queries, sessions

T = TypeVar("T")
EXIT_NOT_ALLOWED = 6
ACTOR = "cli"


def _run(work: Callable[[Settings, Database], Awaitable[T]]) -> T:
    settings = _settings()

    async def main() -> T:
        await asyncio.to_thread(upgrade, settings.database_url)
        db = Database(settings.database_url)
        try:
            async with db.sessions() as session:
                await queries.ensure_organization(
                    session, settings.organization_id, settings.emergency_team_id
                )
                await session.commit()
            return await work(settings, db)
        finally:
            await db.dispose()

    return asyncio.run(main())


async def _member_id_for(settings: Settings, session: AsyncSession, email: str) -> str | None:
    """The member with this email: one who signed in here, else one of the emergency team's
    members as Hootsuite lists them now."""
    user = await session.scalar(
        select(User).where(
            User.organization_id == settings.organization_id, User.email.ilike(email)
        )
    )
    if user is not None:
        return user.member_id
    from empause.platforms.hootsuite.adapter import HootsuitePlatform

    platform = HootsuitePlatform.from_settings(settings)
    try:
        client = platform.client
        for member in await client.team_members(
            settings.organization_id, settings.emergency_team_id
        ):
            details = await client.member(str(member.get("id")))
            if str(details.get("email") or "").lower() == email.lower():
                return str(details["id"])
    finally:
        await platform.aclose()
    return None


async def _check_in_team(settings: Settings, member_id: str, email: str) -> None:
    from empause.platforms.hootsuite.adapter import HootsuitePlatform

    platform = HootsuitePlatform.from_settings(settings)
    try:
        membership = await MembershipChecker(platform, settings.emergency_team_id).check(member_id)
    except MembershipUnavailable as exc:
        _fail(EXIT_UPSTREAM, f"Hootsuite could not confirm {email}'s teams ({exc}); try again")
    finally:
        await platform.aclose()
    if not membership.emergency:
        _fail(
            EXIT_NOT_ALLOWED,
            f"{email} is not in the emergency team (team {settings.emergency_team_id}) on "
            "Hootsuite: an API key acts with its creator's authority, so it is refused",
        )


def create_key(name: str, email: str, as_json: bool) -> None:
    name, email = name.strip(), email.strip()
    if not name or len(name) > queries.API_KEY_NAME_MAX:
        _fail(EXIT_USAGE, f"--name must be 1 to {queries.API_KEY_NAME_MAX} characters")
    if "@" not in email:
        _fail(EXIT_USAGE, f"--member must be the member's email address, not {email!r}")

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        from empause.platforms.port import AuthError, PlatformError

        async with db.sessions() as session:
            try:
                member_id = await _member_id_for(settings, session, email)
            except AuthError as exc:
                _fail(EXIT_AUTH, f"Hootsuite refused the app's credentials ({exc})")
            except PlatformError as exc:
                _fail(EXIT_UPSTREAM, f"Hootsuite could not list the emergency team ({exc})")
            if member_id is None:
                _fail(
                    EXIT_NOT_ALLOWED,
                    f"no member of the emergency team (team {settings.emergency_team_id}) has "
                    f"the email {email} on Hootsuite",
                )
            await _check_in_team(settings, member_id, email)
            user = await queries.user_by_member(session, settings.organization_id, member_id)
            if user is None:
                user = User(
                    organization_id=settings.organization_id, member_id=member_id, email=email
                )
                session.add(user)
                await session.flush()
            key, prefix, key_hash = crypto.new_api_key()
            api_key = ApiKey(
                organization_id=settings.organization_id, name=name, prefix=prefix,
                key_hash=key_hash, created_by=user.id,
            )  # fmt: skip
            session.add(api_key)
            await session.flush()
            queries.audit(
                session, settings.organization_id, f"{ACTOR} ({email})", "apikey.created",
                name=name, prefix=prefix,
            )  # fmt: skip
            await session.commit()
            return {"key": key, "id": api_key.id}

    result = _run(work)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"API key {result['id']} created for {email}. Shown once; store it now:")
        typer.echo(result["key"])


def list_keys(as_json: bool) -> None:
    async def work(settings: Settings, db: Database) -> list[dict[str, Any]]:
        async with db.sessions() as session:
            rows = await queries.api_keys(session, settings.organization_id)
        return [
            {
                "id": key.id,
                "name": key.name,
                "prefix": key.prefix,
                "created_by": creator,
                "created_at": key.created_at.isoformat(),
                "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
                "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            }
            for key, creator in rows
        ]

    keys = _run(work)
    if as_json:
        typer.echo(json.dumps(keys, indent=2))
        return
    if not keys:
        typer.echo("no API keys")
    for key in keys:
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
        typer.echo(
            f"{key['id']:>5}  {key['name']:<24} emp_{key['prefix']}_…  by {key['created_by']}"
            f"  ({state}; last used {key['last_used_at'] or 'never'})"
        )


def revoke_key(key_id: int) -> None:
    async def work(settings: Settings, db: Database) -> str:
        async with db.sessions() as session:
            api_key = await session.get(ApiKey, key_id)
            if api_key is None or api_key.organization_id != settings.organization_id:
                _fail(EXIT_OTHER, f"no API key with id {key_id} (see `empause api-key list`)")
            if api_key.revoked_at is not None:
                return f"API key {key_id} ({api_key.name}) was already revoked"
            queries.revoke(api_key)
            queries.audit(
                session, settings.organization_id, ACTOR, "apikey.revoked",
                name=api_key.name, prefix=api_key.prefix,
            )  # fmt: skip
            await session.commit()
            return f"API key {key_id} ({api_key.name}) revoked"

    typer.echo(_run(work))


def revoke_sessions(email: str) -> None:
    email = email.strip()
    if not email:
        _fail(EXIT_USAGE, "--member must be the member's email address")

    async def work(settings: Settings, db: Database) -> int:
        async with db.sessions() as session:
            count = await sessions.revoke_member(session, email)
            queries.audit(
                session, settings.organization_id, ACTOR, "sessions.revoked",
                member=email, count=count,
            )  # fmt: skip
            await session.commit()
            return count

    count = _run(work)
    typer.echo(f"{count} session(s) of {email} ended")
