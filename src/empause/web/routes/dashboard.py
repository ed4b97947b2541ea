"""The dashboard: state banner, the pause button, live progress, what moved, what is held."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain import validation
from empause.domain.model import PrescreenDecision
from empause.platforms.membership import MembershipUnavailable
from empause.prescreen.queries import list_decisions
from empause.web import actions, queries, status
from empause.web.deps import (
    Viewer,
    db_session,
    emergency_actor,
    optional_viewer,
    require_emergency_member,
    tenant_of,
    viewer,
)
from empause.web.routes.email_signin import signin_methods
from empause.web.templating import render

router = APIRouter()
CONFIRM_WORD = "PAUSE"


async def can_act(request: Request, who: Viewer) -> bool:
    """Whether to show the controls (display only: every action re-checks on the server)."""
    try:
        tenant = await tenant_of(request, who.organization_id)
        return (await tenant.membership.check(who.member_id, max_age=60)).emergency
    except MembershipUnavailable:
        return who.emergency


async def page_context(request: Request, session: AsyncSession, who: Viewer) -> dict[str, Any]:
    tenant = await tenant_of(request, who.organization_id)
    org = tenant.org
    org_id = org.organization_id
    state = await status.current(session, org_id)
    operation = state["operation"]  # the latest pause/resume, already read with the status
    entries = await queries.journal(session, operation["id"]) if operation else []
    return {
        "status": state,
        "entries": entries,
        "organization": org,
        "profiles": await tenant.profile_names.get(),
        "held": await list_decisions(session, org_id, PrescreenDecision.HELD),
        "can_act": await can_act(request, who),
        "confirm_word": CONFIRM_WORD,
        "defaults": {
            "horizon": _days(org.horizon.total_seconds()),
            "shift": _days(org.shift.total_seconds()),
        },
    }


def _days(seconds: float) -> str:
    return f"{int(seconds // 86400)}d" if seconds % 86400 == 0 else f"{int(seconds)}s"


@router.get("/")
async def home(request: Request, session: Annotated[AsyncSession, Depends(db_session)]) -> Response:
    who = await optional_viewer(request)
    if who is None:
        return render(request, "signin.html", {"methods": signin_methods(request)})
    return render(request, "dashboard.html", await page_context(request, session, who))


@router.get("/pause")
async def pause_page(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Response:
    """The pause form on a page of its own (the dialog's fallback without JavaScript)."""
    return render(request, "pause.html", await page_context(request, session, who))


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


@router.post("/pause")
async def pause(
    request: Request,
    who: Annotated[Viewer, Depends(emergency_actor)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Response:
    form = await _form(request)
    problems: list[str] = []
    if form.get("confirm", "") != CONFIRM_WORD:
        problems.append(f"Type {CONFIRM_WORD} (in capitals) in the confirmation box.")
    body = None
    try:
        body = actions.PauseRequest(
            reason=form.get("reason", ""),
            strategy=form.get("strategy") or None,
            horizon=form.get("horizon") or None,
            shift=form.get("shift") or None,
            until=form.get("until") or None,
            end_restore=form.get("end_restore") or "original",
        )
    except ValidationError as exc:
        problems.extend(_explain(exc))
    if problems or body is None:
        context = await page_context(request, session, who)
        context.update(problems=problems, form=form)
        return render(request, "pause.html", context, status_code=422)
    await actions.start_pause(
        await tenant_of(request, who.organization_id), session, body, who.label, "dashboard"
    )
    await session.commit()
    return RedirectResponse("/?started=pause#progress", status_code=303)


@router.get("/preview")
async def preview(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    horizon: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """What a pause started now would move, for the confirm dialog (JSON; changes nothing;
    for the emergency team, whose membership is re-checked at most once a minute)."""
    tenant = await tenant_of(request, who.organization_id)
    await require_emergency_member(tenant.membership, who.member_id, "your account", max_age=60)
    try:
        validation.duration(horizon or None, "horizon", validation.MAX_HORIZON)
    except validation.InvalidParameter as exc:
        return JSONResponse({"error": f"{exc.field}: {exc.message}"}, status_code=422)
    return JSONResponse(await tenant.engine.preview(horizon or None))


@router.post("/pause-end")
async def pause_end(
    request: Request,
    who: Annotated[Viewer, Depends(emergency_actor)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Response:
    form = await _form(request)
    try:
        body = actions.PauseEndRequest(
            until=form.get("until") or None, cancel=form.get("action") == "cancel"
        )
    except ValidationError as exc:
        context = await page_context(request, session, who)
        context.update(problems=_explain(exc))
        return render(request, "dashboard.html", context, status_code=422)
    await actions.change_pause_end(
        await tenant_of(request, who.organization_id), session, body, who.label, "dashboard"
    )
    await session.commit()
    return RedirectResponse("/", status_code=303)


@router.post("/resume")
async def resume(
    request: Request,
    who: Annotated[Viewer, Depends(emergency_actor)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Response:
    form = await _form(request)
    try:
        body = actions.ResumeRequest(restore=form.get("restore", ""))
    except ValidationError:
        context = await page_context(request, session, who)
        context.update(
            problems=["Choose whether to restore the original times or keep the new ones."]
        )
        return render(request, "dashboard.html", context, status_code=422)
    await actions.start_resume(
        await tenant_of(request, who.organization_id), session, body, who.label, "dashboard"
    )
    await session.commit()
    return RedirectResponse("/?started=resume#progress", status_code=303)


_FIELD_NAMES = {
    "reason": "Reason",
    "strategy": "Strategy",
    "horizon": "Window",
    "shift": "Move by",
    "restore": "Restore",
    "until": "Ends by itself",
    "end_restore": "When it ends",
}


def _explain(exc: ValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error.get("loc") else "form"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        out.append(f"{_FIELD_NAMES.get(field, field)}: {message}.")
    return out
