"""`empause org add | list | remove | set`: which organizations this installation protects.

`add` asks the platform before storing anything, so a wrong id, team or credential is a
clear error now rather than at the moment someone presses pause.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer

from empause.bootstrap import Services, UnknownOrganization
from empause.domain.organization import OrganizationConfig, PlatformName
from empause.engine.commands import EXIT_AUTH, EXIT_UPSTREAM, EXIT_USAGE, _fail, _settings
from empause.platforms.port import AuthError, NotFound, Permanent, PlatformError
from empause.store import organizations

T = TypeVar("T")


def _run(work: Callable[[Services], Awaitable[T]]) -> T:
    async def main() -> T:
        services = Services(_settings())
        try:
            await services.start()
            return await work(services)
        except (organizations.OrganizationError, UnknownOrganization) as exc:
            _fail(EXIT_USAGE, str(exc))
        finally:
            await services.aclose()

    return asyncio.run(main())


async def _verify(services: Services, org: OrganizationConfig) -> None:
    """The platform knows the organization, lets us in, and has the emergency team."""
    platform = services.platform(org)
    try:
        teams = await platform.team_ids()  # also proves the credentials
        if org.emergency_team_id not in teams:
            _fail(EXIT_USAGE, f"organization {org.organization_id} has no team "
                  f"{org.emergency_team_id} on {org.platform}; check --emergency-team")  # fmt: skip
    except AuthError as exc:
        _fail(EXIT_AUTH, f"{org.platform} refused the credentials for organization "
              f"{org.organization_id} ({exc}): is the app installed there?")  # fmt: skip
    except NotFound as exc:
        _fail(EXIT_USAGE, f"{org.platform} does not know organization {org.organization_id} "
              f"({exc}); check --id")  # fmt: skip
    except Permanent as exc:
        _fail(EXIT_USAGE, f"{org.platform} refused: {exc}")
    except PlatformError as exc:
        _fail(EXIT_UPSTREAM, f"{org.platform} could not be reached ({exc}); try again")


async def _account_of(
    services: Services, team: str, base_url: str | None, sealed: str | None
) -> str:
    probe = OrganizationConfig("probe", PlatformName.SOCIALHUB, team)
    services.remember_connection(probe.organization_id, base_url, sealed)
    platform: Any = services.platform(probe)
    try:
        return str(await platform.account_id())
    except AuthError as exc:
        _fail(EXIT_AUTH, f"SocialHub refused the access token ({exc}); check --access-token")
    except Permanent as exc:
        _fail(EXIT_USAGE, f"SocialHub refused: {exc}")
    except PlatformError as exc:
        _fail(EXIT_UPSTREAM, f"SocialHub at {base_url} could not be reached ({exc}); try again")


def add(platform: str, organization_id: str | None, team: str, name: str,
        base_url: str | None, access_token: str | None, as_json: bool) -> None:  # fmt: skip
    try:
        chosen = PlatformName(platform)
    except ValueError:
        _fail(EXIT_USAGE, f"--platform must be one of {', '.join(p.value for p in PlatformName)}")
    if chosen == PlatformName.HOOTSUITE and not organization_id:
        _fail(EXIT_USAGE, "--id is required for Hootsuite: the organization's id")
    if chosen == PlatformName.SOCIALHUB and not (base_url and access_token):
        _fail(EXIT_USAGE, "--base-url and --access-token are required for SocialHub")
    if not team.strip():
        _fail(EXIT_USAGE, "--emergency-team must be the emergency team's id")

    async def work(services: Services) -> dict[str, Any]:
        credentials = {"access_token": access_token} if access_token else {}
        sealed = services.seal_credentials(credentials) if credentials else None
        if chosen == PlatformName.SOCIALHUB:  # the token's account is the organization
            organization = await _account_of(services, team.strip(), base_url, sealed)
        else:
            organization = organization_id or ""
        org_id = organizations.check_id(organization)
        config = OrganizationConfig(org_id, chosen, team.strip(), name=name)
        services.remember_connection(org_id, base_url, sealed)
        await _verify(services, config)
        secret = secrets.token_urlsafe(32)
        async with services.db.sessions() as session:
            row = await organizations.add(
                session, organization_id=org_id, platform=chosen, emergency_team_id=config.emergency_team_id,
                name=name, base_url=base_url, credentials_enc=sealed, webhook_secret=secret,
            )  # fmt: skip
            described = organizations.describe(row)
            await session.commit()
        public = services.settings.public_url.rstrip("/")
        described["webhook_url"] = f"{public}/webhooks/{chosen.value}/{secret}"
        return described

    result = _run(work)
    if as_json:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    typer.echo(f"protecting {result['name'] or result['id']} ({result['platform']} organization "
               f"{result['id']}, emergency team {result['emergency_team_id']})")  # fmt: skip
    typer.echo(f"its webhook URL (shown once): {result['webhook_url']}")


def list_(as_json: bool) -> None:
    async def work(services: Services) -> list[dict[str, Any]]:
        async with services.db.sessions() as session:
            return [organizations.describe(r) for r in await organizations.rows(session)]

    found = _run(work)
    if as_json:
        typer.echo(json.dumps(found, indent=2, sort_keys=True))
        return
    if not found:
        typer.echo("no organization is protected yet: `empause org add`")
    for org in found:
        state = "PAUSED" if org["paused"] else "normal"
        typer.echo(f"{org['id']:<14} {org['platform']:<10} team {org['emergency_team_id']:<10} "
                   f"{state:<7} {org['name']}")  # fmt: skip


def remove(organization_id: str) -> None:
    async def work(services: Services) -> None:
        async with services.db.sessions() as session:
            await organizations.remove(session, organization_id)
            await session.commit()

    _run(work)
    typer.echo(f"organization {organization_id} is no longer protected")


def set_(organization_id: str, values: dict[str, str | None]) -> None:
    chosen = {k: v for k, v in values.items() if v is not None}
    if not chosen:
        _fail(EXIT_USAGE, f"nothing to set: give one of --{', --'.join(organizations.SETTING_KEYS)}")

    async def work(services: Services) -> dict[str, Any]:
        parsed = {k: organizations.parse_setting(k, v) for k, v in chosen.items()}
        async with services.db.sessions() as session:
            row = await organizations.update_settings(session, organization_id, parsed)
            described = organizations.describe(row)
            await session.commit()
            return described

    result = _run(work)
    typer.echo(json.dumps(result["settings"], sort_keys=True))
