"""Pause and resume end to end over HTTP (dashboard and API), progress, audit, ops endpoints."""

from __future__ import annotations

import csv
import io
import json
import logging

import httpx
import pytest

from empause.sandbox import seed
from tests.web.helpers import api_status, create_api_key, csrf, settled, signed_in, wait_for


@pytest.fixture
def app_overrides():
    """Pace the app as fast as `small_sandbox` allows."""
    return {"rate_limit": 200.0}


def test_api_key_pauses_and_resumes(small_sandbox, app_server):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    key = create_api_key(em, "pager")
    headers = {"Authorization": f"Bearer {key}"}
    base = app_server.base_url
    answer = httpx.post(f"{base}/api/pause", json={"reason": "Shooting downtown"}, headers=headers)
    assert answer.status_code == 202 and answer.json()["accepted"]
    status = wait_for(lambda: (s := api_status(base, key)) and s["paused"] and settled(s) and s)
    op = status["operation"]
    assert op["kind"] == "pause" and op["status"] == "done"
    assert op["in_scope"] > 0 and op["moved"] == op["in_scope"] and op["percent"] == 100
    assert status["reason"] == "Shooting downtown" and status["by"].startswith("api-key:pager")
    page = em.get("/")
    assert "PAUSED" in page.text and "Shooting downtown" in page.text
    assert page.text.count("step-created") == op["moved"]
    # Profiles by name, not bare ids (the seed's five profiles are on five networks).
    assert "Facebook page @SandboxCounty" in page.text or "Instagram @sandbox.county" in page.text

    again = httpx.post(f"{base}/api/pause", json={"reason": "twice"}, headers=headers)
    assert again.status_code == 202  # harmless: the engine says it is already paused

    answer = httpx.post(f"{base}/api/resume", json={"restore": "original"}, headers=headers)
    assert answer.status_code == 202
    status = wait_for(
        lambda: (
            (s := api_status(base, key))
            and not s["paused"]
            and settled(s)
            and s["operation"]["kind"] == "resume"
            and s
        )
    )
    assert status["operation"]["status"] == "done"
    page = em.get("/")
    assert "NORMAL" in page.text
    assert "Restored messages" in page.text and "Now scheduled at" in page.text


def test_dashboard_pause_returns_at_once_and_streams_progress(small_sandbox, app_server):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    answer = em.post(
        "/pause", data={"reason": "Flood", "confirm": "PAUSE", "strategy": "hold",
                        "csrf_token": csrf(em)},
    )  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"].startswith("/?started=pause")

    def paused_and_done():
        page = em.get("/")
        return (
            "PAUSED" in page.text and 'Pause</span> —\n     <span id="op-status">done' in page.text
        )

    wait_for(paused_and_done)
    # The stream shares one status read per 250 ms, so its first event may predate the
    # page's read by that much: take events until the operation shows done.
    with em.stream("GET", "/events/status") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                state = json.loads(line[6:])
                if state["operation"]["status"] == "done":
                    break
    assert state["paused"] and state["operation"]["percent"] == 100
    assert state["operation"]["strategy"] == "hold"

    answer = em.post("/resume", data={"restore": "keep", "csrf_token": csrf(em)})
    assert answer.status_code == 303
    wait_for(lambda: "NORMAL" in em.get("/").text)

    audit = em.get("/audit.csv")
    assert audit.status_code == 200 and audit.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(audit.text)))
    actions = {row["action"] for row in rows}
    assert {"signin", "pause.requested", "resume.requested"} <= actions
    assert "Flood" in em.get("/audit").text


METRICS_TOKEN = "a-metrics-token-for-the-scraper-only"


def test_healthz_metrics_and_headers(app_server):
    base = app_server.base_url
    health = httpx.get(f"{base}/healthz")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    page = httpx.get(f"{base}/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert '<script src="/static/app.js"' in page.text and "<script>" not in page.text
    assert httpx.get(f"{base}/static/app.css").status_code == 200
    metrics = httpx.get(f"{base}/metrics")
    assert metrics.status_code == 404  # no EMPAUSE_METRICS_TOKEN: not served on this listener
    app_server.app.state.settings = app_server.settings.model_copy(
        update={"metrics_token": METRICS_TOKEN}
    )
    for sent in (None, "Bearer wrong", f"Basic {METRICS_TOKEN}"):
        refused = httpx.get(f"{base}/metrics", headers={"Authorization": sent} if sent else {})
        assert refused.status_code == 401, sent
    metrics = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert metrics.status_code == 200
    assert 'empause_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics.text
    assert "empause_operation_duration_seconds" in metrics.text


def test_the_access_log_never_shows_the_webhook_secret(app_server, caplog):
    from tests.fixtures.app import WEBHOOK_SECRET

    caplog.set_level(logging.INFO, logger="empause.web.access")
    answer = httpx.post(f"{app_server.base_url}/webhooks/hootsuite/{WEBHOOK_SECRET}", json={})
    assert answer.status_code < 500
    lines = wait_for(
        lambda: [r for r in caplog.records if getattr(r, "route", "").startswith("/webhooks/")]
    )
    assert lines[0].path == "/webhooks/hootsuite/{secret}"
    assert not any(WEBHOOK_SECRET in str(vars(r)) for r in caplog.records)


def test_held_messages_are_listed_while_paused(small_sandbox, app_server):
    from datetime import UTC, datetime, timedelta

    from tests.fixtures.app import WEBHOOK_SECRET

    small_sandbox.control.register_webhook(
        f"{app_server.base_url}/webhooks/hootsuite/{WEBHOOK_SECRET}"
    )
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    em.post("/pause", data={"reason": "Storm", "confirm": "PAUSE", "csrf_token": csrf(em)})
    wait_for(lambda: "PAUSED" in em.get("/").text)
    token = small_sandbox.control.token(member_id=seed.STAFF_MEMBER_ID)
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    small_sandbox.control.create_message(
        token,
        text="Weekend sale: everything must go",
        socialProfileIds=[seed.FACEBOOK_PROFILE_ID],
        scheduledSendTime=when,
    )
    page = wait_for(lambda: (p := em.get("/").text) and "Weekend sale" in p and p)
    assert 'id="held"' in page
