"""The app stream over real HTTP (app and sandbox on loopback): single sign-on, the framing
policy, the stream's own session, and pause / resume with membership asked upstream."""

from __future__ import annotations

import time

import pytest

from empause.sandbox import seed
from empause.web.app import create_app
from empause.web.server import ServerThread, bind
from tests.web.helpers import wait_for
from tests.web.stream_helpers import (
    api,
    due_in_window,
    open_stream,
    session_token,
    sso_params,
    stream_overrides,
)


@pytest.fixture
def app_overrides(sandbox_server):
    return stream_overrides(sandbox_server)


def _settled(state: dict) -> bool:
    op = state.get("operation")
    return bool(op) and not op["running"] and not state.get("busy")


def test_an_emergency_member_signs_in_and_the_page_may_only_be_framed_by_the_dashboard(
    small_sandbox, app_server
):
    page = open_stream(app_server.base_url, sso_params(seed.EM_MEMBER_ID))
    assert page.status_code == 200, page.text
    policy = page.headers["content-security-policy"]
    assert f"frame-ancestors http://localhost:{small_sandbox.port};" in policy
    assert f"script-src 'self' http://localhost:{small_sandbox.port};" in policy
    assert "x-frame-options" not in page.headers
    assert "set-cookie" not in page.headers  # no third-party cookies: the page carries it
    assert f'src="http://localhost:{small_sandbox.port}/jsapi/2-0/hsp.js"' in page.text
    assert 'id="s-pause-form"' in page.text
    assert "<script>" not in page.text  # nothing inline: the app's CSP forbids it
    # The rest of the app still refuses to be framed.
    home = app_server.base_url
    import httpx

    assert httpx.get(home + "/").headers["x-frame-options"] == "DENY"


def test_the_dashboard_may_post_the_sign_in(small_sandbox, app_server):
    page = open_stream(app_server.base_url, sso_params(seed.STAFF_MEMBER_ID), post=True)
    assert page.status_code == 200, page.text
    assert 'id="s-readonly"' in page.text
    assert 'id="s-pause-form"' not in page.text


@pytest.mark.parametrize(
    "case,params,status",
    [
        ("forged", lambda: sso_params(secret="not-the-app-secret-at-all"), 401),
        ("stale", lambda: sso_params(ts=int(time.time()) - 301), 401),
        ("future", lambda: sso_params(ts=int(time.time()) + 301), 401),
        ("missing", lambda: {k: v for k, v in sso_params().items() if k != "token"}, 401),
    ],
)
def test_bad_sign_ins_get_a_plain_page_in_the_frame(
    small_sandbox, app_server, case, params, status
):
    page = open_stream(app_server.base_url, params())
    assert page.status_code == status, (case, page.text)
    assert 'id="stream-error"' in page.text
    assert "frame-ancestors http://localhost" in page.headers["content-security-policy"]
    assert 'name="stream-session"' not in page.text


def test_a_replayed_sign_in_is_refused_by_another_process_sharing_the_database(
    small_sandbox, app_server
):
    params = sso_params()
    assert open_stream(app_server.base_url, params).status_code == 200
    again = open_stream(app_server.base_url, params, post=True)
    assert again.status_code == 403
    assert "already been used" in again.text
    # A second app process (its own engine and memory) on the same database.
    other = create_app(app_server.settings)
    with ServerThread(other, bind("127.0.0.1", 0)) as second:
        replay = open_stream(second.base_url, params)
        assert replay.status_code == 403, replay.text
        fresh = open_stream(second.base_url, sso_params(ts=int(params["ts"]) - 1))
        assert fresh.status_code == 200


def test_without_an_app_secret_the_stream_is_not_configured(small_sandbox, app_server):
    settings = app_server.settings.model_copy(update={"hootsuite_app_secret": ""})
    with ServerThread(create_app(settings), bind("127.0.0.1", 0)) as server:
        page = open_stream(server.base_url, sso_params())
        assert page.status_code == 503
        assert "EMPAUSE_HOOTSUITE_APP_SECRET" in page.text


def test_a_member_of_an_organization_not_protected_here_is_told_how_to_add_it(
    small_sandbox, app_server
):
    small_sandbox.control.reset(seed="demo", messages=5, organizations=2)
    other_em = seed.seed_organization(1).em[0]
    page = open_stream(app_server.base_url, sso_params(other_em))
    assert page.status_code == 403, page.text
    assert 'id="stream-unprotected"' in page.text
    assert seed.seed_organization(1).id in page.text
    assert "empause org add" in page.text


def test_the_stream_session_travels_in_a_header_and_is_checked(small_sandbox, app_server):
    page = open_stream(app_server.base_url, sso_params(seed.EM_MEMBER_ID))
    token = session_token(page)
    with api(app_server.base_url, token) as client:
        state = client.get("/state")
        assert state.status_code == 200, state.text
        assert state.json()["paused"] is False and state.json()["can_act"] is True
    for bad in (None, "", token[:-2] + "xx", token + "a"):
        with api(app_server.base_url, bad) as client:
            assert client.get("/state").status_code == 401
            assert (
                client.post("/pause", json={"reason": "x", "confirm": "PAUSE"}).status_code == 401
            )
    # A cookie is not a way in: the header is.
    import httpx

    assert (
        httpx.get(
            f"{app_server.base_url}/hootsuite/stream/state",
            cookies={"empause_session": token},
            headers={"Accept": "application/json"},
        ).status_code
        == 401
    )


def test_revoking_the_members_sessions_ends_the_stream_session(small_sandbox, app_server):
    import asyncio

    from empause.store.db import Database
    from empause.web import sessions

    token = session_token(open_stream(app_server.base_url, sso_params(seed.EM_MEMBER_ID)))

    async def revoke() -> int:
        db = Database(app_server.settings.database_url)
        try:
            async with db.sessions() as session:
                count = await sessions.revoke_member(session, seed.EM_EMAIL)
                await session.commit()
                return count
        finally:
            await db.dispose()

    assert asyncio.run(revoke()) == 1
    with api(app_server.base_url, token) as client:
        assert client.get("/state").status_code == 401


def test_staff_see_the_state_and_may_not_act(small_sandbox, app_server):
    token = session_token(open_stream(app_server.base_url, sso_params(seed.STAFF_MEMBER_ID)))
    with api(app_server.base_url, token) as client:
        assert client.get("/state").json()["can_act"] is False
        refused = client.post("/pause", json={"reason": "Storm", "confirm": "PAUSE"})
        assert refused.status_code == 403
        assert "emergency team" in refused.json()["detail"]
        assert client.post("/resume", json={"restore": "original"}).status_code == 403
    assert due_in_window(small_sandbox)  # nothing moved


def test_an_emergency_member_pauses_and_resumes_from_the_stream(small_sandbox, app_server):
    before = due_in_window(small_sandbox)
    assert before
    token = session_token(open_stream(app_server.base_url, sso_params(seed.EM_MEMBER_ID)))
    with api(app_server.base_url, token) as client:
        unconfirmed = client.post("/pause", json={"reason": "Storm", "confirm": "pause"})
        assert unconfirmed.status_code == 422
        no_reason = client.post("/pause", json={"reason": " ", "confirm": "PAUSE"})
        assert no_reason.status_code == 422
        started = client.post("/pause", json={"reason": "Storm warning", "confirm": "PAUSE"})
        assert started.status_code == 202, started.text
        state = wait_for(lambda: (s := client.get("/state").json())["paused"] and _settled(s) and s)
        assert state["reason"] == "Storm warning"
        assert "Emery Manager" in state["by"]
        assert due_in_window(small_sandbox) == []

        resumed = client.post("/resume", json={"restore": "original"})
        assert resumed.status_code == 202, resumed.text
        wait_for(
            lambda: (
                not (s := client.get("/state").json())["paused"]
                and s["operation"]["kind"] == "resume"
                and _settled(s)
            )
        )
    assert len(due_in_window(small_sandbox)) == len(before)  # back at their original times


def test_membership_is_asked_upstream_at_the_action(small_sandbox, app_server):
    token = session_token(open_stream(app_server.base_url, sso_params(seed.EM_MEMBER_ID)))
    # Removed from the emergency team after the stream opened: the page still shows the
    # controls (display), but the action is refused.
    small_sandbox.control.set_member(seed.EM_MEMBER_ID, teams=[])
    with api(app_server.base_url, token) as client:
        refused = client.post("/pause", json={"reason": "Storm", "confirm": "PAUSE"})
        assert refused.status_code == 403, refused.text
    assert due_in_window(small_sandbox)


def test_the_pause_preview_counts_what_would_move_and_is_shared(small_sandbox, app_server):
    due = due_in_window(small_sandbox)
    staff = session_token(open_stream(app_server.base_url, sso_params(seed.STAFF_MEMBER_ID)))
    with api(app_server.base_url, staff) as client:
        assert client.get("/preview").status_code == 403
    token = session_token(open_stream(app_server.base_url, sso_params(seed.EM_MEMBER_ID)))
    with api(app_server.base_url, token) as client:
        first = client.get("/preview")
        assert first.status_code == 200, first.text
        assert first.json() == {"count": len(due), "more": False, "horizon_days": 7}
        listed = small_sandbox.control.state()["calls"].get("GET /v1/messages", 0)
        for _ in range(5):
            assert client.get("/preview").json()["count"] == len(due)
        # Asked again within the sharing period: no new listing upstream.
        assert small_sandbox.control.state()["calls"].get("GET /v1/messages", 0) == listed


def test_a_polling_page_gets_a_fresh_session_token_before_the_old_one_expires(
    small_sandbox, app_server, monkeypatch
):
    from itsdangerous.timed import TimestampSigner

    from empause.web.stream import session as stream_session

    now = int(time.time())
    fresh = session_token(open_stream(app_server.base_url, sso_params(seed.EM_MEMBER_ID, ts=now)))
    with api(app_server.base_url, fresh) as client:
        assert "token" not in client.get("/state").json()
    age = stream_session.RENEW_AFTER.total_seconds() + 5
    with monkeypatch.context() as past:  # the app runs in this process: sign as if earlier
        past.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time() - age))
        # (another second's token: the same member, second and secret make the same token)
        aging = session_token(
            open_stream(app_server.base_url, sso_params(seed.EM_MEMBER_ID, ts=now - 1))
        )
    with api(app_server.base_url, aging) as client:
        renewed = client.get("/state").json()["token"]
    with api(app_server.base_url, renewed) as client:
        state = client.get("/state").json()
        assert state["can_act"] is True and "token" not in state
