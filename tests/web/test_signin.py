"""Sign in with Hootsuite: who gets the controls, who reads, who is refused, and why."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from empause.sandbox import seed
from empause.store.db import Database
from empause.store.models import User
from empause.web.app import create_app
from empause.web.server import ServerThread, bind
from tests.fixtures.app import app_settings
from tests.web.helpers import client, csrf, sign_in, signed_in


def test_signed_out_sees_the_sign_in_page(app_server):
    page = httpx.get(app_server.base_url + "/")
    assert page.status_code == 200
    assert "Sign in with Hootsuite" in page.text
    assert "PAUSE ALL" not in page.text


def test_login_uses_state_and_pkce(app_server):
    answer = client(app_server.base_url).get("/auth/login")
    location = httpx.URL(answer.headers["location"])
    params = dict(location.params)
    assert str(location).startswith(app_server.sandbox.base_url + "/oauth2/auth")
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) >= 43
    assert len(params["state"]) >= 16
    assert params["redirect_uri"] == app_server.base_url + "/auth/callback"


async def test_emergency_member_gets_an_account_with_encrypted_tokens(app_server, db: Database):
    browser, answer = sign_in(app_server.base_url, seed.EM_EMAIL)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = browser.get("/")
    assert 'id="pause-button"' in page.text
    assert "Emergency team" in page.text
    async with db.sessions() as session:
        user = await session.scalar(select(User).where(User.member_id == seed.EM_MEMBER_ID))
    assert user is not None and user.email == seed.EM_EMAIL
    assert user.full_name and user.company_name and user.timezone == "America/Vancouver"
    assert user.access_token_enc and user.refresh_token_enc
    plain = app_server.app.state.cipher.decrypt(user.access_token_enc)
    assert plain and plain not in user.access_token_enc


async def test_staff_member_gets_a_read_only_page_and_no_account(app_server, db: Database):
    browser = signed_in(app_server.base_url, seed.STAFF_EMAIL)
    page = browser.get("/")
    assert page.status_code == 200
    assert "NORMAL" in page.text and "Read-only" in page.text
    assert 'id="pause-button"' not in page.text and 'id="resume-form"' not in page.text
    async with db.sessions() as session:
        assert (
            await session.scalar(select(User).where(User.member_id == seed.STAFF_MEMBER_ID)) is None
        )


def test_someone_outside_the_organization_is_refused(sandbox, database_url):
    sock = bind()
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = app_settings(sandbox.base_url, database_url, public_url).model_copy(
        update={"organization_id": "999999"}
    )
    sandbox.control.register_redirect_uri(f"{public_url}/auth/callback")
    with ServerThread(create_app(settings), sock) as server:
        browser, answer = sign_in(server.base_url, seed.EM_EMAIL)
        assert answer.status_code == 403
        assert "not a member of the organization" in answer.text
        assert "Sign in with Hootsuite" in browser.get("/").text


def test_callback_with_a_foreign_state_is_refused(app_server):
    browser = client(app_server.base_url)
    browser.get("/auth/login")
    answer = browser.get("/auth/callback", params={"code": "x", "state": "forged-state-123"})
    assert answer.status_code == 400
    assert "Start again" in answer.text


def test_callback_with_an_error_from_hootsuite_says_so(app_server):
    browser = client(app_server.base_url)
    browser.get("/auth/login")
    answer = browser.get("/auth/callback", params={"error": "access_denied"})
    assert answer.status_code == 400 and "access_denied" in answer.text


def test_sign_out_needs_the_csrf_token_and_ends_the_session(app_server):
    browser = signed_in(app_server.base_url, seed.STAFF_EMAIL)
    assert browser.post("/auth/logout", data={}).status_code == 403
    answer = browser.post("/auth/logout", data={"csrf_token": csrf(browser)})
    assert answer.status_code == 303
    assert "Sign in with Hootsuite" in browser.get("/").text


def test_times_are_shown_in_the_members_timezone(app_server):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    assert "Times shown in America/Vancouver" in em.get("/").text
