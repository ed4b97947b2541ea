"""Pure ASGI middleware (safe for streaming responses): security headers, request metrics."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from empause.web import metrics

log = logging.getLogger("empause.web.access")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # the OAuth callback URL carries a code
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000; includeSubDomains"  # only when the public URL is https


class SecurityHeaders:
    def __init__(self, app: ASGIApp, hsts: bool = False):
        self.app = app
        self.headers = {**SECURITY_HEADERS, **({"Strict-Transport-Security": HSTS} if hsts else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A response with a policy of its own (the app stream, framed by Hootsuite's
                # dashboard) says who may frame it with frame-ancestors: no X-Frame-Options.
                framed = "content-security-policy" in headers
                for name, value in self.headers.items():
                    if not (framed and name == "X-Frame-Options"):
                        headers.setdefault(name, value)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestMetrics:
    """Counts and times every request by route template, and logs it as one JSON line."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def track(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, track)
        finally:
            route = getattr(scope.get("route"), "path", None)
            if route is None:
                route = "/static" if scope["path"].startswith("/static/") else "unmatched"
            elapsed = time.perf_counter() - started
            metrics.REQUESTS.labels(scope["method"], route, str(status["code"])).inc()
            metrics.REQUEST_SECONDS.labels(route).observe(elapsed)
            # A path segment that is a secret (the webhook URL's) is logged as its template.
            path = route if "{secret}" in route else scope["path"]
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": path,
                    "route": route,
                    "status": status["code"],
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
