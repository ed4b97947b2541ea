"""Server-Sent Events: the status, streamed from the database while a member watches.

Each stream lasts at most a minute; EventSource reconnects by itself, which keeps a
shutting-down server from waiting on idle streams.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from empause.web import status
from empause.web.deps import Viewer, tenant_of, viewer
from empause.web.errors import WebError

router = APIRouter()
POLL_SECONDS = 0.4
STREAM_SECONDS = 60.0
KEEPALIVE_SECONDS = 15.0
STREAMS_PER_SESSION = 4  # a few open tabs; more is a leak or a flood


class TooManyStreams(WebError):
    status = 429
    title = "Too many live views"


class CountedStream(StreamingResponse):
    """A stream that reports its end however it ends (finished, disconnected, cancelled)."""

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None], **kw: Any):
        super().__init__(content, **kw)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()


@router.get("/events/status")
async def status_events(
    request: Request, who: Annotated[Viewer, Depends(viewer)]
) -> StreamingResponse:
    app = request.app
    tenant = await tenant_of(request, who.organization_id)
    open_streams: dict[int, int] = app.state.event_streams
    if open_streams.get(who.session_id, 0) >= STREAMS_PER_SESSION:
        raise TooManyStreams(
            f"This session already has {STREAMS_PER_SESSION} live views open. "
            "Close a tab of the dashboard, then reload."
        )
    open_streams[who.session_id] = open_streams.get(who.session_id, 0) + 1

    def closed() -> None:
        left = open_streams.get(who.session_id, 1) - 1
        if left > 0:
            open_streams[who.session_id] = left
        else:
            open_streams.pop(who.session_id, None)

    async def stream() -> AsyncIterator[str]:
        yield "retry: 1000\n\n"
        last, last_sent, started = None, time.monotonic(), time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS and not app.state.stopping.is_set():
            if await request.is_disconnected():
                return
            payload = json.dumps(await status.snapshot(tenant), sort_keys=True)
            if payload != last:
                yield f"event: status\ndata: {payload}\n\n"
                last, last_sent = payload, time.monotonic()
            elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                yield ": keepalive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(POLL_SECONDS)

    return CountedStream(
        stream(),
        on_close=closed,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
