"""`POST /webhooks/hootsuite/{secret}`: store the events, answer at once, wake the worker.

Hootsuite's REST webhooks are unsigned, so the only authenticity is an unguessable path
segment (settings.webhook_secret, compared in constant time); even a forged event can do no
harm, because the worker re-reads the platform before any decision. The acknowledgement path
is one INSERT: Hootsuite disables callback URLs that answer slowly or fail.

Needs `app.state.db` and `app.state.settings`; wakes `app.state.inbox_worker` if set,
otherwise every InboxWorker running in this process.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from empause.prescreen import inbox
from empause.prescreen.events import MAX_BODY_BYTES, BadEvent, parse_body
from empause.prescreen.logs import log
from empause.prescreen.worker import wake_all
from empause.store import organizations

router = APIRouter()


class _TooLarge(Exception):
    pass


async def _read_body(request: Request) -> bytes:
    """The body, refusing early past MAX_BODY_BYTES whether or not Content-Length says so."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY_BYTES:
                raise _TooLarge
        except ValueError:
            raise BadEvent("bad Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(status: int, why: str, request: Request) -> JSONResponse:
    client = request.client.host if request.client else None
    log("webhook.refused", level=logging.WARNING, status=status, why=why, client=client)
    return JSONResponse({"error": why}, status_code=status)


def _wake(request: Request) -> None:
    tenants = getattr(request.app.state, "tenants", None)
    if tenants is not None:
        tenants.wake_inboxes()
    else:
        wake_all()


@router.post("/webhooks/hootsuite/{secret}", include_in_schema=False)
async def hootsuite_webhook(secret: str, request: Request) -> JSONResponse:
    async with request.app.state.db.sessions() as session:
        owner = await organizations.by_webhook_secret(
            session, secret, request.app.state.settings
        )
        if owner == "*":  # the installation's URL: events of any protected organization
            protected = await organizations.protected_ids(session)
        else:
            protected = {owner} if owner is not None else set()
    if owner is None:
        return _refuse(404, "not found", request)  # do not confirm that the endpoint exists
    try:
        body = parse_body(await _read_body(request))
    except _TooLarge:
        return _refuse(413, "body too large", request)
    except BadEvent as exc:
        return _refuse(exc.status, str(exc), request)
    if owner != "*":  # an organization's own URL speaks for that organization only
        body.messages[:] = [
            replace(m, organization_id=owner)
            for m in body.messages
            if m.organization_id in (None, owner)
        ]
    await inbox.record(request.app.state.db, body.messages, protected)
    if body.messages:
        _wake(request)
    log("webhook.accepted", level=logging.DEBUG, messages=len(body.messages),
        pings=body.pings, other=body.other)  # fmt: skip
    return JSONResponse({"received": len(body.messages), "pings": body.pings})
