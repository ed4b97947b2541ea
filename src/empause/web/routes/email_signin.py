"""Sign in by emailed link, for organizations whose platform has no sign-in for people
(SocialHub): ask for a link, open it, confirm, and the session is created as for Hootsuite
(`auth._sign_in`: membership of the emergency team asked of the platform now, and again at
every action).

The link's GET only shows a button (mail scanners that open links do not use them up); the
POST consumes the token. The answer to a request for a link never says whether the address
is known.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from empause.web import signin_links
from empause.web.deps import db_session, tenant_of
from empause.web.errors import NotFound, Unavailable
from empause.web.routes.auth import SignInFailed, _sign_in
from empause.web.signin_links import EmailSignin, uses_email_links
from empause.web.templating import render
from empause.web.tenants import Tenant

log = logging.getLogger(__name__)
router = APIRouter()
LINK_MINUTES = int(signin_links.LINK_TTL.total_seconds() // 60)

LINK_REFUSED = (
    "This sign-in link has expired, was already used, or is not one of ours. Ask for a new one."
)


def _email_tenants(request: Request) -> list[Tenant]:
    return [t for t in request.app.state.tenants if uses_email_links(t)]


def signin_methods(request: Request) -> dict[str, bool]:
    """Which ways in the sign-in page offers, from the organizations protected here."""
    tenants = list(request.app.state.tenants)
    email = any(uses_email_links(t) for t in tenants)
    return {"hootsuite": not tenants or any(not uses_email_links(t) for t in tenants),
            "email": email}  # fmt: skip


def _service(request: Request) -> EmailSignin:
    return request.app.state.email_signin  # type: ignore[no-any-return]


def _offered(request: Request) -> None:
    if not _email_tenants(request):
        raise NotFound("No organization protected here signs in by email link.")


@router.get("/auth/email")
async def ask_page(request: Request) -> Response:
    _offered(request)
    return render(
        request,
        "email_signin.html",
        {"mail_ready": _service(request).mailer is not None, "minutes": LINK_MINUTES},
    )


@router.post("/auth/email")
async def ask(request: Request, background: BackgroundTasks) -> Response:
    _offered(request)
    service = _service(request)
    if service.mailer is None:
        raise Unavailable(
            "This installation cannot send mail yet: its operator must set EMPAUSE_SMTP_URL "
            "and EMPAUSE_MAIL_FROM.", title="Sign-in by email is not set up",
        )  # fmt: skip
    form = await request.form()
    raw = form.get("email")
    email = signin_links.normalize_email(raw if isinstance(raw, str) else "")
    if email is None:
        return render(
            request, "email_signin.html",
            {"mail_ready": True, "minutes": LINK_MINUTES,
             "error": "Enter an email address, like name@example.org.",
             "email": raw if isinstance(raw, str) else ""},
            status_code=422,
        )  # fmt: skip
    # Looked up and sent after the answer: it reads the same, and takes as long, either way.
    background.add_task(_deliver, request, email)
    return render(request, "email_sent.html", {"email": email, "minutes": LINK_MINUTES})


async def _deliver(request: Request, email: str) -> None:
    try:
        await _service(request).deliver(request.app.state.db, _email_tenants(request), email)
    except Exception:
        log.exception("sign-in link delivery failed")


@router.get("/auth/email/link")
async def open_link(
    request: Request,
    session: Annotated[AsyncSession, Depends(db_session)],
    token: str | None = None,
) -> Response:
    """The page the mail links to: one button that signs in (the link is not used yet)."""
    link = await signin_links.peek(session, token)
    if link is None:
        raise SignInFailed(LINK_REFUSED)
    return render(request, "email_confirm.html", {"token": token, "email": link.email})


@router.post("/auth/email/link")
async def use_link(
    request: Request, session: Annotated[AsyncSession, Depends(db_session)]
) -> Response:
    form = await request.form()
    token = form.get("token")
    grant = await signin_links.consume(session, token if isinstance(token, str) else None)
    if grant is None:
        raise SignInFailed(LINK_REFUSED)
    await session.commit()  # used, whatever happens next
    tenant = await tenant_of(request, grant.organization_id)
    try:
        member = await _service(request).directory.by_id(tenant, grant.member_id)
    except Exception as exc:
        raise Unavailable(
            f"{tenant.org.platform.value} did not answer ({exc}). Ask for a new link."
        ) from exc
    if member is None:
        raise SignInFailed(
            "Your account is no longer listed by the organization's platform. If you should "
            "have access, ask its admin."
        )
    pending = {
        "member_id": member.member_id, "email": member.email, "full_name": member.full_name,
        "timezone": "UTC", "company_name": "", "access_token_enc": None,
        "refresh_token_enc": None, "token_expires_at": None,
        "organizations": [grant.organization_id],
    }  # fmt: skip
    return await _sign_in(request, session, tenant, pending)
