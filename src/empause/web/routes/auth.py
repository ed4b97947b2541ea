"""Sign in with Hootsuite: authorization code with `state` and PKCE; and sign-out.

On the way back we ask Hootsuite who this is, whether they belong to our organization and
which teams they are in. Emergency-team members get an account (tokens encrypted at rest);
other members of the organization a read-only view; anyone else a clear refusal.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from empause.platforms.hootsuite import auth as oauth
from empause.platforms.hootsuite.client import HootsuiteClient
from empause.platforms.membership import MembershipUnavailable
from empause.platforms.port import Ambiguous, AuthError, PlatformError, Transient
from empause.web import queries, sessions
from empause.web.deps import Viewer, db_session, member_actor, platform_name, tenant_of
from empause.web.errors import Forbidden, Unavailable, WebError
from empause.web.templating import render
from empause.web.tenants import Tenant

log = logging.getLogger(__name__)
router = APIRouter()
UPSTREAM_TEXT_MAX = 200  # characters of an upstream error description we show


def upstream_text(value: str) -> str:
    """Text another site chose (an OAuth error description), made safe to show: printable
    characters only and short. Templates escape HTML; this bounds what a link can inject."""
    printable = "".join(c if c.isprintable() else " " for c in value).strip()
    if len(printable) > UPSTREAM_TEXT_MAX:
        return printable[: UPSTREAM_TEXT_MAX - 1] + "…"
    return printable


def _secure(request: Request) -> bool:
    return sessions.secure_cookies(request.app.state.settings.public_url)


def redirect_uri(request: Request) -> str:
    return request.app.state.settings.public_url.rstrip("/") + "/auth/callback"


@router.get("/auth/login")
async def login(request: Request) -> Response:
    settings = request.app.state.settings
    verifier, challenge = oauth.make_pkce()
    state = secrets.token_urlsafe(24)
    url = oauth.authorization_url(
        settings.hootsuite_base_url,
        settings.hootsuite_client_id,
        redirect_uri(request),
        state,
        challenge,
    )
    response = RedirectResponse(url, status_code=303)
    request.app.state.login_state.issue(response, state, verifier, _secure(request))
    return response


class SignInFailed(WebError):
    title = "Sign-in did not complete"


@router.get("/auth/callback")
async def callback(
    request: Request,
    session: Annotated[AsyncSession, Depends(db_session)],
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    pending = request.app.state.login_state.read(request)
    if error:
        said = upstream_text(error_description or "")
        raise SignInFailed(
            f"Hootsuite answered '{upstream_text(error)}'{': ' + said if said else ''}."
            " Start again from the sign-in button."
        )
    if not pending or not state or not secrets.compare_digest(pending["state"].encode(), state.encode()):
        raise SignInFailed(
            "This sign-in link does not match the one we started (it may have been opened in "
            "another tab, replayed, or taken more than 10 minutes). Start again from the "
            "sign-in button."
        )
    if not code:
        raise SignInFailed(
            "Hootsuite sent no authorization code. Start again from the sign-in button."
        )

    settings = request.app.state.settings
    http = request.app.state.http
    try:
        # Exactly one attempt: a code used twice revokes everything it granted.
        tokens = await oauth.exchange_code(
            http,
            settings.hootsuite_base_url,
            settings.hootsuite_client_id,
            settings.hootsuite_client_secret,
            code,
            redirect_uri(request),
            pending["verifier"],
        )

        async def provider(refused: str | None = None) -> str:
            if refused:
                raise AuthError("Hootsuite refused the token it just granted")
            return tokens.access_token

        client = HootsuiteClient(settings.hootsuite_base_url, provider, http=http)
        me = await client.me()
        organizations = await client.me_organizations()
    except (Transient, Ambiguous) as exc:
        raise Unavailable(f"Hootsuite did not answer in time ({exc}). Sign in again.") from exc
    except (AuthError, PlatformError) as exc:
        raise SignInFailed(f"Hootsuite refused the sign-in ({exc}). Sign in again.") from exc

    member_id = str(me.get("id"))
    email = str(me.get("email") or "")
    theirs = {str(o.get("id")) for o in organizations}
    protected = [t for t in request.app.state.tenants if t.organization_id in theirs]
    if not protected:
        for tenant in request.app.state.tenants:
            queries.audit(session, tenant.organization_id, email or member_id, "signin.refused",
                          member_id=member_id, why="not in organization")  # fmt: skip
        await session.commit()
        which = "any organization" if len(list(request.app.state.tenants)) > 1 else "the organization"
        raise Forbidden(
            f"Your Hootsuite account ({email or member_id}) is not a member of {which} "
            "this dashboard protects. If you should have access, ask your Hootsuite "
            "organization admin to add you.",
            title="This dashboard is not for your account",
        )
    cipher = request.app.state.cipher
    pending = {
        "member_id": member_id, "email": email, "full_name": str(me.get("fullName") or ""),
        "timezone": str(me.get("timezone") or "UTC"),
        "company_name": str(me.get("companyName") or ""),
        "access_token_enc": cipher.encrypt(tokens.access_token),
        "refresh_token_enc": cipher.encrypt(tokens.refresh_token),
        "token_expires_at": tokens.expires_at.isoformat() if tokens.expires_at else None,
        "organizations": [t.organization_id for t in protected],
    }  # fmt: skip
    if len(protected) == 1:
        return await _sign_in(request, session, protected[0], pending)
    response = render(request, "choose.html", {"organizations": [t.org for t in protected]})
    request.app.state.login_state.issue_choice(response, pending, _secure(request))
    return response


@router.post("/auth/choose")
async def choose(
    request: Request, session: Annotated[AsyncSession, Depends(db_session)]
) -> Response:
    """A member of several protected organizations picked one (the choice cookie, signed and
    short-lived, lists the ones they may pick)."""
    pending = request.app.state.login_state.read_choice(request)
    form = await request.form()
    chosen = str(form.get("organization") or "")
    if pending is None:
        raise SignInFailed("This choice has expired. Sign in again.")
    if chosen not in pending["organizations"]:
        raise Forbidden("Pick one of the organizations listed.", title="Not allowed")
    tenant = await tenant_of(request, chosen)
    return await _sign_in(request, session, tenant, pending)


async def _sign_in(
    request: Request, session: AsyncSession, tenant: Tenant, pending: dict[str, Any]
) -> Response:
    member_id, email = pending["member_id"], pending["email"]
    try:
        membership = await tenant.membership.check(member_id)
    except MembershipUnavailable as exc:
        raise Unavailable(
            f"{platform_name(tenant)} could not list your teams ({exc}). Sign in again."
        ) from exc
    org_id = tenant.organization_id
    profile = {
        "member_id": member_id,
        "email": email,
        "full_name": pending["full_name"],
        "timezone": pending["timezone"],
        "emergency": membership.emergency,
    }
    if membership.emergency:
        expires = pending["token_expires_at"]
        await queries.upsert_user(
            session, org_id, member_id, email=email, full_name=pending["full_name"],
            company_name=pending["company_name"], timezone=pending["timezone"],
            access_token_enc=pending["access_token_enc"],
            refresh_token_enc=pending["refresh_token_enc"],
            token_expires_at=datetime.fromisoformat(expires) if expires else None,
        )  # fmt: skip
    queries.audit(session, org_id, email or member_id, "signin", member_id=member_id,
                  emergency=membership.emergency)  # fmt: skip
    token = await sessions.create(session, org_id, profile)
    await session.commit()
    log.info("signed in", extra={"member_id": member_id, "emergency": membership.emergency,
                                 "organization_id": org_id})  # fmt: skip
    response = RedirectResponse("/", status_code=303)
    sessions.set_cookie(response, token, _secure(request))
    request.app.state.login_state.clear(response, _secure(request))
    return response


@router.post("/auth/logout")
async def logout(
    request: Request,
    who: Annotated[Viewer, Depends(member_actor)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Response:
    queries.audit(session, who.organization_id, who.label, "signout")
    await sessions.revoke(session, sessions.cookie_token(request))
    await session.commit()
    response = RedirectResponse("/", status_code=303)
    sessions.clear_cookie(response, _secure(request))
    return response
