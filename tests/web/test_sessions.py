"""Sessions live on the server: a cookie is a random token, revocable, and nothing more.

Forged, copied-after-sign-out, idle, too old, or revoked by an operator: none signs anyone in.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import httpx
import itsdangerous
from sqlalchemy import update

from empause.config import DEMO_SECRET_KEY
from empause.domain.timeutil import utcnow
from empause.sandbox import seed
from empause.store.db import Database
from empause.store.models import WebSession
from empause.web import crypto, sessions
from empause.web.app import create_app
from empause.web.routes.events import STREAMS_PER_SESSION
from empause.web.server import ServerThread, bind
from tests.fixtures.app import app_settings
from tests.web.helpers import client, csrf, signed_in

SIGNED_OUT = "Sign in with Hootsuite"


def test_a_cookie_forged_with_the_public_demo_key_signs_nobody_in(app_server):
    """What a signed-cookie session accepted before: a session signed with the demo key."""
    key = crypto.derive_key(DEMO_SECRET_KEY, "session-cookie").hex()
    forged = {
        "user": {"member_id": seed.EM_MEMBER_ID, "email": seed.EM_EMAIL, "emergency": True},
        "csrf": "t",
        "iat": int(time.time()),
    }
    cookie = itsdangerous.TimestampSigner(key).sign(base64.b64encode(json.dumps(forged).encode()))
    for value in (cookie.decode(), "x" * 43, "x" * 5000, ""):
        browser = client(app_server.base_url)
        browser.cookies.set(sessions.COOKIE, value)
        assert SIGNED_OUT in browser.get("/").text
        assert browser.post("/pause", data={"csrf_token": "t", "reason": "x"}).status_code in (
            401,
            403,
        )


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(app_server):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    token = em.cookies[sessions.COOKIE]
    copy = client(app_server.base_url)
    copy.cookies.set(sessions.COOKIE, token)
    assert SIGNED_OUT not in copy.get("/").text  # the copy works while the session lives

    answer = em.post("/auth/logout", data={"csrf_token": csrf(em)})
    assert answer.status_code == 303
    assert SIGNED_OUT in em.get("/").text
    assert SIGNED_OUT in copy.get("/").text
    assert copy.get("/keys").status_code in (303, 401)


async def test_sessions_end_when_idle_or_too_old(app_server, db: Database):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    assert SIGNED_OUT not in em.get("/").text
    async with db.sessions() as session:
        await session.execute(
            update(WebSession).values(
                last_seen_at=utcnow() - sessions.IDLE - timedelta(seconds=5)
            )
        )
        await session.commit()
    assert SIGNED_OUT in em.get("/").text  # idle too long

    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    async with db.sessions() as session:
        await session.execute(
            update(WebSession)
            .where(WebSession.revoked_at.is_(None))
            .values(created_at=utcnow() - sessions.ABSOLUTE - timedelta(seconds=5))
        )
        await session.commit()
    assert SIGNED_OUT in em.get("/").text  # used all along, but signed in too long ago


def test_a_login_state_cookie_cannot_be_forged_or_reused_elsewhere(app_server):
    browser = client(app_server.base_url)
    browser.cookies.set(sessions.LOGIN_COOKIE, "forged.value.here", path="/auth/")
    answer = browser.get("/auth/callback", params={"code": "c", "state": "s" * 32})
    assert answer.status_code == 400
    assert "does not match" in answer.text


def test_an_upstream_error_description_is_shortened_and_escaped(app_server):
    said = "<script>alert(1)</script>" + "A" * 5000
    answer = httpx.get(
        f"{app_server.base_url}/auth/callback",
        params={"error": "access_denied", "error_description": said},
    )
    assert answer.status_code == 400
    assert "<script>alert(1)" not in answer.text
    assert "&lt;script&gt;" in answer.text
    assert "A" * 300 not in answer.text


def test_live_views_are_limited_per_session(app_server):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    cookies = {sessions.COOKIE: em.cookies[sessions.COOKIE]}
    streams = []
    try:
        for _ in range(STREAMS_PER_SESSION):
            stream = httpx.Client(base_url=app_server.base_url, cookies=cookies, timeout=10)
            response = stream.send(stream.build_request("GET", "/events/status"), stream=True)
            assert response.status_code == 200
            streams.append((stream, response))
        extra = em.get("/events/status", headers={"Accept": "application/json"})
        assert extra.status_code == 429
        assert "live views" in extra.json()["detail"]
    finally:
        for stream, response in streams:
            response.close()
            stream.close()
    # Closed streams give their places back.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with em.stream("GET", "/events/status") as again:
            if again.status_code == 200:
                break
        time.sleep(0.2)
    else:
        raise AssertionError("closed live views were never counted down")


def test_https_public_url_makes_cookies_secure_and_sends_hsts(sandbox, database_url):
    sock = bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = app_settings(sandbox.base_url, database_url, "https://empause.example.org")
    with ServerThread(create_app(settings), sock):
        login = httpx.get(f"{base}/auth/login", follow_redirects=False)
        assert "secure" in login.headers["set-cookie"].lower()
        assert login.headers["strict-transport-security"].startswith("max-age=")
    plain = app_settings(sandbox.base_url, database_url, base)
    sock = bind("127.0.0.1", 0)
    with ServerThread(create_app(plain), sock) as server:
        login = httpx.get(f"{server.base_url}/auth/login", follow_redirects=False)
        assert "secure" not in login.headers["set-cookie"].lower()
        assert "strict-transport-security" not in login.headers
