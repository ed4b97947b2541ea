"""The JSON API for automation (e.g. an alerting system pressing pause), on API keys.

Pause and resume are accepted at once (202) and run in the background: poll /api/status.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain import validation
from empause.domain.timeutil import format_time
from empause.web import actions, status
from empause.web.deps import ApiActor, api_actor, api_reader, db_session, tenant_of
from empause.web.errors import WebError

router = APIRouter(prefix="/api")


@router.post("/pause", status_code=202)
async def pause(
    request: Request,
    body: Annotated[actions.PauseRequest, Body()],
    who: Annotated[ApiActor, Depends(api_actor)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> JSONResponse:
    tenant = await tenant_of(request, who.organization_id)
    await actions.start_pause(tenant, session, body, who.label, "api")
    await session.commit()
    return JSONResponse({"accepted": True, "action": "pause", "status_url": "/api/status"}, 202)


@router.post("/pause-end")
async def pause_end(
    request: Request,
    body: Annotated[actions.PauseEndRequest, Body()],
    who: Annotated[ApiActor, Depends(api_actor)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> dict[str, Any]:
    """Extend, shorten (`{"until": "2h"}`) or cancel (`{"cancel": true}`) the pause's end."""
    tenant = await tenant_of(request, who.organization_id)
    ends = await actions.change_pause_end(tenant, session, body, who.label, "api")
    await session.commit()
    return {"ends_at": format_time(ends) if ends else None}


@router.post("/resume", status_code=202)
async def resume(
    request: Request,
    who: Annotated[ApiActor, Depends(api_actor)],
    session: Annotated[AsyncSession, Depends(db_session)],
    body: Annotated[actions.ResumeRequest | None, Body()] = None,
) -> JSONResponse:
    await actions.start_resume(
        await tenant_of(request, who.organization_id), session, body or actions.ResumeRequest(), who.label, "api"
    )
    await session.commit()
    return JSONResponse({"accepted": True, "action": "resume", "status_url": "/api/status"}, 202)


@router.get("/status")
async def get_status(
    request: Request,
    who: Annotated[ApiActor, Depends(api_reader)],
) -> dict[str, Any]:
    return await status.snapshot(await tenant_of(request, who.organization_id))


@router.get("/preview")
async def get_preview(
    request: Request,
    who: Annotated[ApiActor, Depends(api_reader)],
    horizon: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    """What a pause started now would move (`messages`, `by_profile`, `by_day`,
    `first_due`, `pending_approval`); changes nothing."""
    try:
        validation.duration(horizon, "horizon", validation.MAX_HORIZON)
    except validation.InvalidParameter as exc:
        raise WebError(f"{exc.field}: {exc.message}", status=422, title="Invalid parameter") from exc
    tenant = await tenant_of(request, who.organization_id)
    return await tenant.engine.preview(horizon)
