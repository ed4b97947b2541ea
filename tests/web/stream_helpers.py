"""Helpers for the app-stream tests: signed SSO parameters, the page's session token, what the
sandbox still has due."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import httpx

from empause.domain.timeutil import parse_time
from empause.sandbox import seed
from empause.sandbox.dashboard import sso_token
from empause.sandbox.server import SandboxServer

APP_SECRET = "stream-tests-app-secret-0123456789"
WINDOW = timedelta(days=7)
_TOKEN = re.compile(r'<meta name="stream-session" content="([^"]+)">')


def stream_overrides(sandbox: SandboxServer) -> dict[str, Any]:
    """The app as installed in the sandbox: its secret, framed by the sandbox's dashboard on
    `localhost` (another site than the app's 127.0.0.1), hsp.js from there."""
    dashboard = f"http://localhost:{sandbox.port}"
    return {
        "hootsuite_app_secret": APP_SECRET,
        "hootsuite_dashboard_origins": dashboard,
        "hsp_js_url": f"{dashboard}/jsapi/2-0/hsp.js",
        "rate_limit": 200.0,
    }


def sso_params(
    member_id: str = seed.EM_MEMBER_ID,
    *,
    ts: int | None = None,
    secret: str = APP_SECRET,
    theme: str = "blue_steel",
) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    return {
        "lang": "en", "theme": theme, "timezone": "-28800", "pid": f"1{member_id}",
        "uid": member_id, "i": member_id, "ts": str(ts), "token": sso_token(member_id, ts, secret),
    }  # fmt: skip


def open_stream(base_url: str, params: dict[str, str], post: bool = False) -> httpx.Response:
    url = f"{base_url}/hootsuite/stream"
    if post:
        return httpx.post(url, data=params, timeout=15)
    return httpx.get(url, params=params, timeout=15)


def session_token(page: httpx.Response) -> str:
    match = _TOKEN.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


def api(base_url: str, token: str | None) -> httpx.Client:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["X-Stream-Session"] = token
    return httpx.Client(base_url=f"{base_url}/hootsuite/stream", headers=headers, timeout=15)


def due_in_window(sandbox: SandboxServer, organization_id: str = seed.ORG_ID) -> list[str]:
    """Ids of the organization's messages that would still publish in the next 7 days."""
    snapshot = sandbox.control.state()
    now = parse_time(snapshot["now"])
    return [
        m["id"]
        for m in snapshot["messages"]
        if m["state"] == "SCHEDULED"
        and m["organizationId"] == organization_id
        and now <= parse_time(m["scheduledSendTime"]) < now + WINDOW
    ]
