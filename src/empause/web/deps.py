"""FastAPI dependencies: the database session, who is asking, and whether they may act.

The cookie only says who signed in. Whether they may change anything is asked of the
platform at the moment of the action (invariant 6), never read from the cookie.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from empause.bootstrap import UnknownOrganization
from empause.config import Settings
from empause.domain.timeutil import utcnow
from empause.platforms.membership import MAX_TTL, MembershipChecker, MembershipUnavailable
from empause.web import crypto, queries, sessions
from empause.web.errors import CsrfFailed, Forbidden, NotFound, NotSignedIn, Unavailable
from empause.web.tenants import Tenant

KEY_USE_RECORDED_EVERY = timedelta(minutes=1)


Viewer = sessions.SignedIn  # the signed-in member, as their session remembers them


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.sessions() as session:
        yield session


async def optional_viewer(request: Request) -> Viewer | None:
    """The member of the request's session cookie, if it names a live session (read once
    per request, then remembered on `request.state` for the page template)."""
    if hasattr(request.state, "viewer"):
        return request.state.viewer  # type: ignore[no-any-return]
    async with request.app.state.db.sessions() as session:
        who = await sessions.load(session, sessions.cookie_token(request))
    request.state.viewer = who
    if who is not None:
        request.state.banner = await _banner_status(request, who.organization_id)
    return who


async def _banner_status(request: Request, organization_id: str) -> dict | None:
    """The organization's state for the banner every page shows (the shared, cached read;
    None if it cannot be had: a page still renders, without the banner)."""
    try:
        tenant = await request.app.state.tenants.get(organization_id)
        return await tenant.status.get()  # type: ignore[no-any-return]
    except Exception:
        return None


async def emergency_viewer(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Viewer:
    """A page only for the emergency team (API keys, settings): others get a 403 page.
    Asked of the platform (at most a minute old), never read from the session."""
    tenant = await tenant_of(request, who.organization_id)
    try:
        membership = await tenant.membership.check(who.member_id, max_age=60)
    except MembershipUnavailable as exc:
        raise Unavailable(
            f"Hootsuite could not confirm you are in the emergency team ({exc}). "
            "Try again in a moment."
        ) from exc
    if not membership.emergency:
        raise Forbidden(
            "This page is for members of the emergency team, and Hootsuite says you are not "
            "one. You can still follow the organization's state on the dashboard; ask an "
            "organization admin if you should be in the team.",
            title="Only for the emergency team",
        )
    return who


async def viewer(request: Request) -> Viewer:
    found = await optional_viewer(request)
    if found is None:
        raise NotSignedIn("Your session has ended or you have not signed in. Sign in again.")
    return found


async def check_csrf(request: Request) -> None:
    """Every state-changing form carries the session's token (a header for scripts)."""
    sent = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    who = await optional_viewer(request)
    if who is None or not crypto.same_token(sent, who.csrf):
        raise CsrfFailed(
            "The form was not sent from this dashboard or your session changed. "
            "Reload the page and try again."
        )


PLATFORM_NAMES = {"hootsuite": "Hootsuite", "socialhub": "SocialHub"}


def platform_name(tenant: Tenant) -> str:
    """The organization's platform as people call it (in messages that name it)."""
    platform = str(tenant.org.platform)
    return PLATFORM_NAMES.get(platform, platform)


async def require_emergency_member(
    checker: MembershipChecker, member_id: str, who: str, max_age: float = 0.0,
    platform: str = "Hootsuite",
) -> None:  # fmt: skip
    try:
        membership = await checker.check(member_id, max_age=max_age)
    except MembershipUnavailable as exc:
        raise Unavailable(
            f"{platform} could not confirm {who} is in the emergency team ({exc}). "
            "Try again in a moment."
        ) from exc
    if not membership.emergency:
        raise Forbidden(
            f"{platform} says {who} is not (or no longer) a member of the emergency team, "
            "so this action is not allowed. Ask an organization admin to add you."
        )


async def tenant_of(request: Request, organization_id: str) -> Tenant:
    """The organization's objects in this process; 404 once it is no longer protected."""
    try:
        return await request.app.state.tenants.get(organization_id)  # type: ignore[no-any-return]
    except UnknownOrganization as exc:
        raise NotFound(
            f"Organization {organization_id} is no longer protected by this installation."
        ) from exc


async def emergency_actor(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Viewer:
    """Signed in, sent from our own form, and in the emergency team right now."""
    await check_csrf(request)
    tenant = await tenant_of(request, who.organization_id)
    await require_emergency_member(
        tenant.membership, who.member_id, "your account", platform=platform_name(tenant)
    )
    return who


async def member_actor(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Viewer:
    """Signed in and sent from our own form (sign-out)."""
    await check_csrf(request)
    return who


@dataclass(frozen=True, slots=True)
class ApiActor:
    organization_id: str
    key_id: int
    key_name: str
    member_id: str
    label: str


async def api_actor(request: Request) -> ApiActor:
    """A live API key whose creator is, right now, in the emergency team (for actions)."""
    return await _api_key(request, max_age=0.0)


async def api_reader(request: Request) -> ApiActor:
    """A live API key whose creator was in the emergency team at most MAX_TTL ago: reading
    status is polled often and must not spend the platform's request budget."""
    return await _api_key(request, max_age=MAX_TTL)


async def _api_key(request: Request, max_age: float) -> ApiActor:
    """The key's checks, in a database session of their own that ends before the route runs
    (a crowd of pollers must not hold connections while they wait for the shared status)."""
    async with request.app.state.db.sessions() as session:
        return await _check_api_key(request, session, max_age)


async def _check_api_key(request: Request, session: AsyncSession, max_age: float) -> ApiActor:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise NotSignedIn("Send an API key as 'Authorization: Bearer <key>'.")
    found = await queries.api_key_by_hash(session, crypto.hash_api_key(key.strip()))
    if found is None or found[0].revoked_at is not None:
        raise NotSignedIn("This API key is unknown or has been revoked. Create a new one.")
    api_key, creator = found
    tenant = await tenant_of(request, api_key.organization_id)
    await require_emergency_member(
        tenant.membership, creator.member_id, f"the key's creator ({creator.email})",
        max_age=max_age, platform=platform_name(tenant),
    )  # fmt: skip
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at > KEY_USE_RECORDED_EVERY:
        api_key.last_used_at = now  # not on every poll: a write per status read adds up
        await session.commit()
    return ApiActor(
        organization_id=api_key.organization_id,
        key_id=api_key.id,
        key_name=api_key.name,
        member_id=creator.member_id,
        label=f"api-key:{api_key.name} ({creator.email})",
    )
