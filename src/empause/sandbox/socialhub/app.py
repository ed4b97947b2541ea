"""The SocialHub sandbox's ASGI app: routing, `?accesstoken=` auth, rate limit, faults, and
the publisher loop.

Hand-rolled like the Hootsuite sandbox's (empause.sandbox.app), whose response writing and
"lost response" drop it reuses: per-route fault keys ("PATCH /cp/posts/{id}", "*"), the
rate limit and faults sit in one place and each request stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable

from empause.sandbox.app import PUBLISH_TICK, SandboxApp
from empause.sandbox.http import Request, Response, dumps
from empause.sandbox.socialhub import api, controlapi
from empause.sandbox.socialhub.errors import ShError
from empause.sandbox.socialhub.state import SocialHubSandbox

log = logging.getLogger(__name__)

Route = tuple[str, str, Callable, str]  # method, template, handler, kind (api|control)
TOKEN_PARAM = "accesstoken"
BASE_PATH = "/api2"  # upstream's basePath; the sandbox answers with and without it

# Writing a response, and abandoning one half-sent (a lost response), are the same as the
# Hootsuite sandbox's.
send_response = SandboxApp._send
drop_connection = SandboxApp._drop


def _compile(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


class SocialHubApp:
    """ASGI callable around one SocialHubSandbox."""

    def __init__(self, sandbox: SocialHubSandbox) -> None:
        self.sb = sandbox
        routes: list[Route] = [(m, t, h, "api") for m, t, h in api.ROUTES]
        if sandbox.control:
            routes += [(m, t, h, "control") for m, t, h in controlapi.ROUTES]
        self.static: dict[tuple[str, str], Route] = {}
        self.dynamic: list[tuple[re.Pattern, Route]] = []
        for route in routes:
            if "{" in route[1]:
                self.dynamic.append((_compile(route[1]), route))
            else:
                self.static[(route[0], route[1])] = route
        self._publisher: asyncio.Task | None = None

    def match(self, method: str, path: str) -> tuple[Route, dict] | None:
        route = self.static.get((method, path))
        if route is not None:
            return route, {}
        for pattern, route in self.dynamic:
            if route[0] == method and (found := pattern.match(path)):
                return route, found.groupdict()
        return None

    def _unmatched(self, method: str, path: str) -> Response:
        known = any(t == path for _, t in self.static) or any(
            p.match(path) for p, _ in self.dynamic
        )
        if known:
            return Response(405, dumps(ShError(405).body()))
        return Response(404, dumps(ShError(404, f"No route {method} {path}").body()))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if path == BASE_PATH or path.startswith(BASE_PATH + "/"):  # as upstream: /api2/...
            path = path[len(BASE_PATH):] or "/"
        if path != "/" and path.endswith("/"):
            path = path.rstrip("/")
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request = Request(method, path, scope.get("query_string", b"").decode("latin-1"),
                          headers, body)  # fmt: skip
        found = self.match(method, path)
        if found is None:
            self.sb.calls["UNMATCHED"] += 1
            await send_response(send, self._unmatched(method, path))
            return
        route, params = found
        request.params = params
        key = f"{method} {route[1]}"
        self.sb.calls[key] += 1
        spec = self.sb.faults.for_route(key, protected=route[3] != "api")
        lost = False
        if spec is not None and spec.active:
            delay = spec.delay(self.sb.faults.rng)
            if delay:
                await asyncio.sleep(delay)
            roll = self.sb.faults.rng.random()
            if roll < spec.error_rate:
                error = ShError(503, "Service temporarily unavailable")
                await send_response(send, Response(503, dumps(error.body())))
                return
            roll -= spec.error_rate
            if roll < spec.timeout_rate:
                await asyncio.sleep(spec.hang_seconds)
                await drop_connection(send)
            roll -= spec.timeout_rate
            lost = roll < spec.lost_response_rate
        response = self._handle(route, request)
        if lost:
            await drop_connection(send, response)
        await send_response(send, response)

    def _handle(self, route: Route, request: Request) -> Response:
        sb = self.sb
        handler, kind = route[2], route[3]
        try:
            if kind == "api":
                user = sb.user_for(request.arg(TOKEN_PARAM))
                code, _ = sb.limiter.check(f"user:{user.id}")  # no rate headers upstream
                if code is not None:
                    raise ShError(429)
                return handler(sb, request, user)
            return handler(sb, request)
        except ShError as exc:
            return Response(exc.status, dumps(exc.body()))
        except Exception as exc:  # a sandbox bug must still answer in the spec's shape
            log.exception("socialhub sandbox handler failed")
            return Response(500, dumps(ShError(500, f"Internal error: {exc}").body()))

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
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _publish_loop(self) -> None:
        """Publish due posts on the sandbox clock, a few times a second."""
        while True:
            try:
                self.sb.world.publish_due()
            except Exception:  # keep publishing whatever one bad post does
                log.exception("publisher tick failed")
            await asyncio.sleep(PUBLISH_TICK)
