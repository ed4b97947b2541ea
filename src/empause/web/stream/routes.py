"""`/hootsuite/stream`: the app stream page (GET or POST from the Hootsuite dashboard, with
single sign-on) and the JSON calls its script makes with the stream's session token.

Every action re-checks emergency-team membership on Hootsuite at that moment (invariant 6);
the session only says who is asking. Pause and resume go through the same validation,
audit and background runner as the dashboard and the API.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from empause.config import dashboard_origins
from empause.domain.timeutil import utcnow
from empause.platforms.membership import MembershipUnavailable
from empause.platforms.port import PlatformError
from empause.web import actions, queries, status
from empause.web.deps import db_session, require_emergency_member, tenant_of
from empause.web.errors import Forbidden, NotSignedIn, Unavailable, WebError
from empause.web.routes.dashboard import CONFIRM_WORD
from empause.web.stream import members, preview, sso
from empause.web.stream import session as stream_session
from empause.web.templating import templates
from empause.web.tenants import Tenant

log = logging.getLogger(__name__)
router = APIRouter(prefix="/hootsuite/stream")
SOURCE = "stream"
DARK_THEMES = frozenset({"dark", "magnum"})  # Hootsuite theme names shown light-on-dark
DISPLAY_MEMBERSHIP_AGE = 60.0  # seconds a membership answer may be, to choose what is shown
PID_MAX = 64  # characters of a placement id we keep in the audit log
SSO_FIELDS = ("i", "ts", "token", "pid", "uid", "lang", "theme", "timezone")


def content_security_policy(settings: Any) -> str:
    """The app's policy, but framed only by Hootsuite's dashboard and with its SDK allowed."""
    ancestors = " ".join(dashboard_origins(settings)) or "'none'"
    sdk = urlsplit(settings.hsp_js_url)
    sdk_origin = f"{sdk.scheme}://{sdk.netloc}" if sdk.scheme and sdk.netloc else ""
    return (
        f"default-src 'self'; script-src 'self' {sdk_origin}; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        f"frame-ancestors {ancestors}; base-uri 'none'; object-src 'none'"
    ).replace("  ", " ")


def _framed(request: Request, response: Response) -> Response:
    response.headers["Content-Security-Policy"] = content_security_policy(
        request.app.state.settings
    )
    return response


def _page(request: Request, name: str, context: dict[str, Any], status_code: int) -> Response:
    theme = str(context.get("theme") or "")
    base = {"dark": theme.lower() in DARK_THEMES, "tz": "UTC", "confirm_word": CONFIRM_WORD}
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code)
    return _framed(request, response)


def _tokens(request: Request) -> stream_session.StreamTokens:
    state = request.app.state
    tokens = getattr(state, "stream_tokens", None)
    if tokens is None:
        tokens = state.stream_tokens = stream_session.StreamTokens(state.settings.secret_key)
    return tokens


async def _params(request: Request) -> dict[str, str]:
    """The SSO parameters from the query string, or from the form Hootsuite POSTs."""
    values = {k: v for k, v in request.query_params.items() if k in SSO_FIELDS}
    if request.method == "POST":
        form = await request.form()
        values.update({k: v for k, v in form.items() if k in SSO_FIELDS and isinstance(v, str)})
    return values


@router.api_route("", methods=["GET", "POST"], include_in_schema=False)
async def stream_page(
    request: Request, session: Annotated[AsyncSession, Depends(db_session)]
) -> Response:
    params = await _params(request)
    try:
        return await _sign_in(request, session, params)
    except WebError as exc:
        log.info(
            "stream sign-in refused",
            extra={"status": exc.status, "why": exc.title, "member_id": params.get("i", "")[:32]},
        )
        # A plain page the member can read inside the dashboard's iframe.
        context = {"title": exc.title, "detail": exc.detail, "theme": params.get("theme")}
        return _page(request, "stream_error.html", context, exc.status)


async def _sign_in(request: Request, session: AsyncSession, params: dict[str, str]) -> Response:
    app_state = request.app.state
    settings = app_state.settings
    now = utcnow()
    identity = sso.verify(
        params.get("i"), params.get("ts"), params.get("token"),
        secret=settings.hootsuite_app_secret, max_skew=settings.sso_max_skew, now=now,
    )  # fmt: skip
    await sso.claim(session, identity, settings.sso_max_skew, now)
    member = await members.resolve_member(settings, app_state.http, identity.member_id)
    protected = await members.protected_organizations(session, member.organizations)
    if not protected:
        context: dict[str, Any] = {
            "member": member,
            "theme": params.get("theme"),
            "title": "Your organization is not protected here",
        }
        return _page(request, "stream_unprotected.html", context, 403)
    organization = protected[0]  # a member of several protected organizations: the first
    org_state = await tenant_of(request, organization.id)
    emergency = await _may_act(org_state, member.member_id)
    who = await stream_session.start(session, organization.id, member.profile(emergency))
    queries.audit(
        session, organization.id, who.label, "stream.signin", member_id=member.member_id,
        pid=(params.get("pid") or "")[:PID_MAX],
    )  # fmt: skip
    await session.commit()
    page: dict[str, Any] = {
        "theme": params.get("theme"),
        "tz": member.timezone,
        "who": who,
        "organization_name": organization.name
        or member.organizations.get(organization.id)
        or organization.id,
        "can_act": emergency,
        "stream_token": _tokens(request).issue(who),
        "status": await status.current(session, organization.id),
        "hsp_js_url": settings.hsp_js_url,
        "header": stream_session.HEADER,
    }
    return _page(request, "stream.html", page, 200)


async def _may_act(org_state: Any, member_id: str) -> bool:
    """Whether to show the controls (display only: each action asks Hootsuite afresh)."""
    try:
        check = await org_state.membership.check(member_id, max_age=DISPLAY_MEMBERSHIP_AGE)
    except MembershipUnavailable:
        return False
    return bool(check.emergency)


# -- the page's JSON calls, on the stream session token ---------------------------------


async def stream_viewer(request: Request) -> stream_session.StreamViewer:
    token = request.headers.get(stream_session.HEADER)
    async with request.app.state.db.sessions() as session:
        found = await _tokens(request).load(session, token)
    if found is None:
        raise NotSignedIn(
            "Your stream session has ended. Refresh the stream from your Hootsuite dashboard."
        )
    return found


Viewer = Annotated[stream_session.StreamViewer, Depends(stream_viewer)]


async def _org_state(request: Request, who: stream_session.StreamViewer) -> Tenant:
    return await tenant_of(request, who.organization_id)


def _renewed(request: Request, who: stream_session.StreamViewer) -> dict[str, str]:
    age = who.issued_age
    if age > stream_session.RENEW_AFTER.total_seconds():
        return {"token": _tokens(request).issue(who.signed_in)}
    return {}


@router.get("/state")
async def stream_state(request: Request, who: Viewer) -> dict[str, Any]:
    """The organization's state and progress (shared status read: polling costs nothing
    upstream beyond a membership answer at most a minute old)."""
    org_state = await _org_state(request, who)
    return {
        **await status.snapshot(org_state),
        "can_act": await _may_act(org_state, who.member_id),
        **_renewed(request, who),
    }


@router.get("/preview")
async def stream_preview(request: Request, who: Viewer) -> dict[str, Any]:
    """How many scheduled posts a pause would move now (for the emergency team's form)."""
    org_state = await _org_state(request, who)
    if not await _may_act(org_state, who.member_id):
        raise Forbidden("Only the emergency team sees what a pause would move.")
    state = request.app.state
    shared = getattr(state, "stream_preview", None)
    if shared is None:
        shared = state.stream_preview = preview.SharedPreview()
    try:
        found = await shared.get(
            who.organization_id, state.services.platform(org_state.org), org_state.org.horizon
        )
    except PlatformError as exc:
        raise Unavailable(f"Hootsuite could not list what is scheduled ({exc}).") from exc
    return found.as_json()


class StreamPause(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = ""
    confirm: str = ""


class StreamResume(BaseModel):
    model_config = ConfigDict(extra="forbid")

    restore: str = "original"


async def _actor(request: Request, who: stream_session.StreamViewer) -> Tenant:
    org_state = await _org_state(request, who)
    await require_emergency_member(org_state.membership, who.member_id, "your account")
    return org_state


@router.post("/pause", status_code=202)
async def stream_pause(
    request: Request,
    who: Viewer,
    body: Annotated[StreamPause, Body()],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> JSONResponse:
    if body.confirm.strip() != CONFIRM_WORD:
        raise WebError(f"Type {CONFIRM_WORD} (in capitals) to confirm.", status=422,
                       title="Please confirm")  # fmt: skip
    try:
        pause = actions.PauseRequest(reason=body.reason)
    except ValidationError as exc:
        detail = "; ".join(str(e.get("msg", "invalid")).removeprefix("Value error, ")
                           for e in exc.errors())  # fmt: skip
        raise WebError(f"Reason: {detail}.", status=422, title="Please check the reason") from None
    org_state = await _actor(request, who)
    await actions.start_pause(org_state, session, pause, who.signed_in.label, SOURCE)
    await session.commit()
    return JSONResponse({"accepted": True, "action": "pause"}, 202)


@router.post("/resume", status_code=202)
async def stream_resume(
    request: Request,
    who: Viewer,
    body: Annotated[StreamResume, Body()],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> JSONResponse:
    try:
        resume = actions.ResumeRequest(restore=body.restore)  # type: ignore[arg-type]
    except ValidationError:
        raise WebError("Choose original or keep.", status=422, title="Please choose") from None
    org_state = await _actor(request, who)
    await actions.start_resume(org_state, session, resume, who.signed_in.label, SOURCE)
    await session.commit()
    return JSONResponse({"accepted": True, "action": "resume"}, 202)
