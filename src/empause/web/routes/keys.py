"""API keys for automation: created and revoked by emergency-team members, shown once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain import validation
from empause.store.models import ApiKey
from empause.web import crypto, queries
from empause.web.deps import Viewer, db_session, emergency_actor, emergency_viewer
from empause.web.errors import WebError
from empause.web.templating import render

router = APIRouter()


async def _page(
    request: Request,
    session: AsyncSession,
    organization_id: str,
    *,
    new_key: str | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    keys = await queries.api_keys(session, organization_id)
    return render(
        request,
        "keys.html",
        {"keys": keys, "new_key": new_key, "problems": problems or []},
        status_code=status_code,
    )


@router.get("/keys")
async def keys_page(
    request: Request,
    who: Annotated[Viewer, Depends(emergency_viewer)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Response:
    return await _page(request, session, who.organization_id)


@router.post("/keys")
async def create_key(
    request: Request,
    who: Annotated[Viewer, Depends(emergency_actor)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Response:
    form = await request.form()
    name = str(form.get("name") or "").strip()
    if not name or len(name) > queries.API_KEY_NAME_MAX:
        return await _page(
            request,
            session,
            who.organization_id,
            problems=[
                f"Name: give the key a name of 1 to {queries.API_KEY_NAME_MAX} characters (e.g. 'alerting')."
            ],
            status_code=422,
        )
    user = await queries.user_by_member(session, who.organization_id, who.member_id)
    if user is None:  # an emergency member always has an account; be clear if not
        raise WebError("Sign out and sign in again to finish setting up your account.")
    key, prefix, key_hash = crypto.new_api_key()
    api_key = ApiKey(
        organization_id=who.organization_id,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        created_by=user.id,
    )
    session.add(api_key)
    queries.audit(
        session, who.organization_id, who.label, "apikey.created", name=name, prefix=prefix
    )
    await session.commit()
    # Shown once, in this response only; never stored in the clear.
    return await _page(request, session, who.organization_id, new_key=key, status_code=201)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(
    key_id: Annotated[int, Path(ge=1, le=validation.MAX_ID)],
    request: Request,
    who: Annotated[Viewer, Depends(emergency_actor)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Response:
    api_key = await session.get(ApiKey, key_id)
    if api_key is None or api_key.organization_id != who.organization_id:
        raise WebError("No such API key.", status=404, title="Not found")
    if api_key.revoked_at is None:
        queries.revoke(api_key)
        queries.audit(
            session,
            who.organization_id,
            who.label,
            "apikey.revoked",
            name=api_key.name,
            prefix=api_key.prefix,
        )
        await session.commit()
    return RedirectResponse("/keys", status_code=303)
