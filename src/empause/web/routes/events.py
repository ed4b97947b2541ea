"""Server-Sent Events: the status, streamed from the database while a member watches.

Each stream lasts at most a minute; EventSource reconnects by itself, which keeps a
shutting-down server from waiting on idle streams.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from empause.web import status
from empause.web.deps import Viewer, viewer

router = APIRouter()
POLL_SECONDS = 0.4
STREAM_SECONDS = 60.0
KEEPALIVE_SECONDS = 15.0


@router.get("/events/status")
async def status_events(
    request: Request, who: Annotated[Viewer, Depends(viewer)]
) -> StreamingResponse:
    app = request.app

    async def stream() -> AsyncIterator[str]:
        yield "retry: 1000\n\n"
        last, last_sent, started = None, time.monotonic(), time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS and not app.state.stopping.is_set():
            if await request.is_disconnected():
                return
            async with app.state.db.sessions() as session:
                payload = json.dumps(await status.snapshot(session, app.state), sort_keys=True)
            if payload != last:
                yield f"event: status\ndata: {payload}\n\n"
                last, last_sent = payload, time.monotonic()
            elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                yield ": keepalive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
