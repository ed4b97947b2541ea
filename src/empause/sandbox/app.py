"""The sandbox's ASGI app: routing, bearer auth, rate limits, faults, publisher loop.

Hand-rolled rather than a framework router so that per-route fault keys
("DELETE /v1/messages/{messageId}"), the X-Account-* headers and "lost response" faults
(apply, then drop the connection) sit in one place and each request stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable

from empause.sandbox import api, controlapi, dashboard, oauth
from empause.sandbox.errors import ApiError, OAuthError
from empause.sandbox.http import Request, Response, dumps, json_response
from empause.sandbox.state import Sandbox
from empause.sandbox.view import HumanView

log = logging.getLogger(__name__)
PUBLISH_TICK = 0.05
_READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


class DropConnection(Exception):
    """Raised after a partial response so the server closes the socket (a lost response)."""


class _QuietDrops(logging.Filter):
    """Our deliberate connection drops are faults, not server errors: keep logs clean."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DropConnection)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


Route = tuple[str, str, Callable, str]  # method, template, handler, kind (v1|oauth|page|control|view)


def _compile(template: str) -> re.Pattern:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{pattern}$")


class SandboxApp:
    """ASGI callable around one Sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        routes: list[Route] = [(m, t, h, "v1") for m, t, h in api.ROUTES]
        routes += [
            ("GET", "/oauth2/auth", oauth.authorize_page, "oauth"),
            ("POST", "/oauth2/auth", oauth.authorize_submit, "oauth"),
            ("POST", "/oauth2/token", oauth.token, "oauth"),
        ]
        routes += [(m, t, h, "page") for m, t, h in dashboard.PAGE_ROUTES]
        if sandbox.control:
            routes += [(m, t, h, "control") for m, t, h in controlapi.ROUTES]
            routes += [(m, t, h, "control") for m, t, h in dashboard.CONTROL_ROUTES]
            routes += [(m, t, h, "view") for m, t, h in HumanView().routes()]
        self.static: dict[tuple[str, str], Route] = {}
        self.dynamic: list[tuple[re.Pattern, Route]] = []
        self.paths: list[tuple[re.Pattern, str]] = []
        for route in routes:
            method, template = route[0], route[1]
            if "{" in template:
                self.dynamic.append((_compile(template), route))
            else:
                self.static[(method, template)] = route
            self.paths.append((_compile(template), method))
        self._publisher: asyncio.Task | None = None
        self._save_lock = asyncio.Lock()
        self._changes = self._saved = 0  # changes seen / covered by a finished write

    # --- routing -----------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[Route, dict] | None:
        route = self.static.get((method, path))
        if route is not None:
            return route, {}
        for pattern, route in self.dynamic:
            if route[0] == method:
                found = pattern.match(path)
                if found:
                    return route, found.groupdict()
        return None

    def _unmatched(self, method: str, path: str) -> Response:
        if any(p.match(path) for p, _ in self.paths):
            return Response(405, dumps(ApiError(405, 5001).body()))
        return Response(404, dumps(ApiError(404, 4001, f"No route {method} {path}").body()))

    # --- ASGI --------------------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method = scope["method"]
        path = scope["path"]
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request = Request(method, path, scope.get("query_string", b"").decode("latin-1"),
                          headers, body)
        found = self.match(method, path)
        if found is None:
            self.sb.calls["UNMATCHED"] += 1
            await self._send(send, self._unmatched(method, path))
            return
        route, params = found
        request.params = params
        key = f"{method} {route[1]}"
        self.sb.calls[key] += 1
        spec = self.sb.faults.for_route(key, protected=route[3] != "v1")
        lost = False
        if spec is not None and spec.active:
            delay = spec.delay(self.sb.faults.rng)
            if delay:
                await asyncio.sleep(delay)
            roll = self.sb.faults.rng.random()
            if roll < spec.error_rate:
                error = ApiError(503, 5000, "Service temporarily unavailable")
                await self._send(send, Response(503, dumps(error.body())))
                return
            roll -= spec.error_rate
            if roll < spec.timeout_rate:
                await asyncio.sleep(spec.hang_seconds)
                await self._drop(send)
            roll -= spec.timeout_rate
            lost = roll < spec.lost_response_rate
        response = self._handle(route, request)
        if method not in _READ_ONLY:
            await self._save()
        if lost:
            await self._drop(send, response)
        await self._send(send, response)

    def _handle(self, route: Route, request: Request) -> Response:
        sb = self.sb
        handler, kind = route[2], route[3]
        account_headers: list = []
        try:
            if kind == "v1":
                token = sb.bearer(request.headers.get("authorization"))
                code, account_headers = sb.limiter.check(token.account)
                if code is not None:
                    raise ApiError(429, code)
                response = handler(sb, request, token)
            else:
                response = handler(sb, request)
        except ApiError as exc:
            response = Response(exc.status, dumps(exc.body()))
        except OAuthError as exc:
            response = json_response(exc.body(), exc.status)
        except Exception as exc:  # a sandbox bug must still answer in the spec's envelope
            log.exception("sandbox handler failed")
            response = Response(500, dumps(ApiError(500, 9000, f"Internal error: {exc}").body()))
        if account_headers:
            response.headers.extend(account_headers)
        return response

    async def _save(self) -> None:
        """Before the response leaves: a kept state is never behind what a client was told.
        Group commit: the world is copied in the loop (consistent), written in a thread, and
        requests that changed it meanwhile share the next write instead of one each."""
        state_file = self.sb.state_file
        if state_file is None:
            return
        self._changes += 1
        mine = self._changes
        async with self._save_lock:
            if self._saved >= mine:
                return  # a write that began after this change already holds it
            covered = self._changes
            try:
                await asyncio.to_thread(state_file.write, state_file.encode(self.sb))
            except OSError:
                log.exception("could not save the sandbox state")
            self._saved = covered

    @staticmethod
    async def _send(send, response: Response) -> None:
        headers = [
            (b"content-type", response.content_type),
            (b"content-length", str(len(response.body)).encode()),
            *response.headers,
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    @staticmethod
    async def _drop(send, response: Response | None = None) -> None:
        """Start a response and abandon it: the client sees a protocol/read error."""
        body = response.body if response else b'{"data":'
        headers = [
            (b"content-type", b"application/json;charset=utf-8"),
            (b"content-length", str(len(body) + 64).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2],
                    "more_body": True})
        raise DropConnection()

    # --- lifespan and publisher --------------------------------------------------------
    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._publisher = asyncio.create_task(self._publish_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._publisher:
                    self._publisher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._publisher
                await self.sb.webhooks.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _publish_loop(self) -> None:
        """Publish due messages on the sandbox clock, a few times a second."""
        while True:
            try:
                if self.sb.world.publish_due():
                    await self._save()
            except Exception:  # keep publishing whatever one bad message does
                log.exception("publisher tick failed")
            await asyncio.sleep(PUBLISH_TICK)
