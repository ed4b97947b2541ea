"""Request bodies above a limit are refused with 413 before they are read into memory.

A declared Content-Length above the limit is refused at once; a body sent without one
(chunked) is counted as it arrives and refused the moment it passes the limit. The webhook
receiver keeps its own limit (prescreen.events.MAX_BODY_BYTES), so its path is left alone.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_LIMIT = 1024 * 1024  # bytes: the JSON API and every form
WEBHOOKS = "/webhooks/"


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = BODY_LIMIT):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(WEBHOOKS):
            await self.app(scope, receive, send)
            return
        too_large = f"request body larger than {self.limit} bytes"
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit() or len(value) > 20:
                    await _refuse(send, 400, "invalid Content-Length")
                    return
                if int(value) > self.limit:
                    await _refuse(send, 413, too_large)
                    return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    if not started and not refused:
                        refused = True
                        await _refuse(send, 413, too_large)
                    return {"type": "http.disconnect"}  # the app stops reading here
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # we answered 413 already; the app's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)
