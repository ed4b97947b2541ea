"""The Hootsuite dashboard, as far as an App Directory app stream can tell (seed 003).

A member signs in (the sandbox's own sign-in, a first-party cookie on the dashboard's host)
and sees one column per installed app stream: an iframe named `{apiKey}_{pid}` into which the
dashboard POSTs the stream URL with `lang`, `theme`, `timezone`, `pid`, `uid` and single
sign-on `i`, `ts`, `token = sha512(i + ts + secret)`. A stand-in SDK at /jsapi/2-0/hsp.js
(the real one's path) talks to this page over postMessage: status messages, placement
subtitles, `refresh`, `getMemberInfo`. Streams are installed with the control API
(`POST /_sandbox/app-streams {"name", "url", "secret"}`), for every member of every
organization, and survive a reset like the app's other registration.
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from empause.sandbox.errors import ApiError
from empause.sandbox.http import Request, Response, html_response, json_response
from empause.sandbox.state import Sandbox

STATIC = Path(__file__).parent / "static"
COOKIE = "hs_dashboard"
THEMES = {"light": "blue_steel", "dark": "dark"}  # what the dashboard sends as `theme`
NAME_MAX = 60
SECRET_MIN = 8
MEMBER_TIMEZONE = "America/Vancouver"  # every seeded member's (see world.Member.to_api)


@dataclass(slots=True)
class AppStream:
    name: str
    url: str
    secret: str
    api_key: str
    number: int

    def pid(self, member_id: str) -> str:
        """The placement id of this stream in one member's dashboard."""
        return f"{self.number}{member_id}"

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "url": self.url, "api_key": self.api_key}


def sso_token(member_id: str, timestamp: int, secret: str) -> str:
    return hashlib.sha512(f"{member_id}{timestamp}{secret}".encode()).hexdigest()


def _static(name: str, content_type: bytes) -> Response:
    return Response(200, (STATIC / name).read_bytes(), content_type,
                    [(b"cache-control", b"no-cache")])  # fmt: skip


def hsp_js(sb: Sandbox, req: Request) -> Response:
    response = _static("hsp.js", b"text/javascript; charset=utf-8")
    # Loaded by app streams on other sites, like the real SDK from its CDN.
    response.headers.append((b"access-control-allow-origin", b"*"))
    return response


def dashboard_js(sb: Sandbox, req: Request) -> Response:
    return _static("dashboard.js", b"text/javascript; charset=utf-8")


def dashboard_css(sb: Sandbox, req: Request) -> Response:
    return _static("dashboard.css", b"text/css; charset=utf-8")


# --- sign-in ---------------------------------------------------------------------------


def _cookie(req: Request) -> str | None:
    for part in req.headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def _signed_in(sb: Sandbox, req: Request) -> str | None:
    member_id = sb.dashboard_sessions.get(_cookie(req) or "")
    return member_id if member_id in sb.world.members else None


_SIGN_IN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Hootsuite sandbox dashboard</title>
<link rel="stylesheet" href="/dashboard/dashboard.css"></head>
<body class="signin"><form method="post" action="/dashboard/login">
<h1>Hootsuite sandbox</h1><p>Sign in to your dashboard.</p>{error}
<label for="email">Email</label><input id="email" name="email" type="email" value="{email}" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<input type="hidden" name="theme" value="{theme}">
<button type="submit">Sign in</button></form></body></html>"""


def _theme(value: str | None) -> str:
    return value if value in THEMES else "light"


def _sign_in_page(theme: str, error: str = "", email: str = "", status: int = 200) -> Response:
    return html_response(
        _SIGN_IN.format(
            error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
            email=html.escape(email),
            theme=html.escape(theme),
        ),
        status,
    )


def login(sb: Sandbox, req: Request) -> Response:
    form = req.form()
    email = (form.get("email") or "").strip().lower()
    theme = _theme(form.get("theme"))
    member = next((m for m in sb.world.members.values() if m.email == email), None)
    if member is None or not secrets.compare_digest(member.password, form.get("password", "")):
        return _sign_in_page(theme, "Wrong email or password.", email, status=401)
    token = secrets.token_urlsafe(24)
    sb.dashboard_sessions[token] = member.id
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax"
    return Response(303, b"", b"text/plain", [
        (b"location", f"/dashboard?theme={theme}".encode()),
        (b"set-cookie", cookie.encode()),
    ])  # fmt: skip


def logout(sb: Sandbox, req: Request) -> Response:
    sb.dashboard_sessions.pop(_cookie(req) or "", None)
    return Response(303, b"", b"text/plain", [
        (b"location", b"/dashboard"),
        (b"set-cookie", f"{COOKIE}=; Path=/; Max-Age=0".encode()),
    ])  # fmt: skip


# --- the dashboard -----------------------------------------------------------------------


def _offset_seconds() -> int:
    offset = datetime.now(UTC).astimezone(ZoneInfo(MEMBER_TIMEZONE)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def sso_fields(
    stream: AppStream, member_id: str, theme: str, now: int | None = None
) -> dict[str, str]:
    """What the dashboard sends the stream (Hootsuite's servers' clock: real time)."""
    ts = int(time.time()) if now is None else now
    return {
        "lang": "en",
        "theme": THEMES[theme],
        "timezone": str(_offset_seconds()),
        "pid": stream.pid(member_id),
        "uid": member_id,
        "i": member_id,
        "ts": str(ts),
        "token": sso_token(member_id, ts, stream.secret),
    }


def _column(stream: AppStream, member_id: str, theme: str) -> str:
    frame = f"{stream.api_key}_{stream.pid(member_id)}"
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
        for k, v in sso_fields(stream, member_id, theme).items()
    )
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(stream.url))
    e = html.escape
    return (
        f'<section class="column" data-frame="{e(frame)}" data-origin="{e(origin)}">'
        f'<header><h2>{e(stream.name)}</h2><span class="subtitle" data-subtitle></span>'
        f'<button type="button" class="refresh" data-refresh aria-label="Refresh {e(stream.name)}">'
        f"&#x21bb;</button></header>"
        f'<form method="post" action="{e(stream.url)}" target="{e(frame)}" data-sso>{hidden}</form>'
        f'<iframe name="{e(frame)}" title="{e(stream.name)}" src="about:blank"></iframe>'
        f"</section>"
    )


def dashboard(sb: Sandbox, req: Request) -> Response:
    theme = _theme(req.arg("theme"))
    member_id = _signed_in(sb, req)
    if member_id is None:
        return _sign_in_page(theme)
    member = sb.world.members[member_id]
    team_ids = [int(t.id) for t in sb.world.member_teams(member_id)]
    info = html.escape(json.dumps({"userId": int(member_id), "teamIds": team_ids}))
    columns = "".join(_column(s, member_id, theme) for s in sb.app_streams.values())
    other = "dark" if theme == "light" else "light"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard - Hootsuite sandbox</title>
<link rel="stylesheet" href="/dashboard/dashboard.css">
<script src="/dashboard/dashboard.js" defer></script></head>
<body class="dashboard theme-{theme}" data-member-info="{info}">
<header class="top"><strong>Hootsuite sandbox</strong>
<span>{html.escape(member.full_name)} &lt;{html.escape(member.email)}&gt;</span>
<a href="/dashboard?theme={other}">{other} theme</a>
<form method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form>
</header>
<div id="status-messages" class="status-messages" role="status" aria-live="polite"></div>
<main class="streams">{columns or '<p id="no-streams">No app streams installed.</p>'}</main>
</body></html>"""
    return html_response(page)


# --- control API -------------------------------------------------------------------------


def install_stream(sb: Sandbox, req: Request) -> Response:
    """Install (or replace, by name) an app stream for every member."""
    body = req.json_object()
    name, url, secret = body.get("name"), body.get("url"), body.get("secret")
    if not isinstance(name, str) or not 0 < len(name) <= NAME_MAX:
        raise ApiError(400, 4000, f"name must be 1 to {NAME_MAX} characters")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise ApiError(400, 4000, "url must be an http(s) URL")
    if not isinstance(secret, str) or len(secret) < SECRET_MIN:
        raise ApiError(400, 4000, f"secret must be at least {SECRET_MIN} characters")
    existing = sb.app_streams.get(name)
    number = existing.number if existing else len(sb.app_streams) + 1
    api_key = existing.api_key if existing else f"sandboxapp{number}"
    sb.app_streams[name] = AppStream(name, url, secret, api_key, number)
    return json_response({"streams": [s.describe() for s in sb.app_streams.values()]})


PAGE_ROUTES = [
    ("GET", "/dashboard", dashboard),
    ("POST", "/dashboard/login", login),
    ("POST", "/dashboard/logout", logout),
    ("GET", "/dashboard/dashboard.js", dashboard_js),
    ("GET", "/dashboard/dashboard.css", dashboard_css),
    ("GET", "/jsapi/2-0/hsp.js", hsp_js),
]
CONTROL_ROUTES = [("POST", "/_sandbox/app-streams", install_stream)]
