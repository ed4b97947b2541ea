"""Coherent pages (issue 14, part 6): the banner on every page while paused, no pause form
while paused, emergency-team pages refused to others with a styled 403, error pages for
people and JSON errors for the API, and terminal logs a person can read."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from fastapi import FastAPI

from empause.sandbox import seed
from empause.web import logs
from empause.web.errors import server_error_handler
from tests.web.helpers import csrf, signed_in, wait_for

STYLED = '<link rel="stylesheet" href="/static/app.css">'


@pytest.fixture
def app_overrides():
    return {"rate_limit": 200.0}


def page_showing(who: httpx.Client, path: str, needle: str, timeout: float = 5) -> str:
    def text() -> str | None:
        body = who.get(path).text
        return body if needle in body else None

    found: str = wait_for(text, timeout=timeout, interval=0.1)
    return found


def test_while_paused_every_page_shows_the_banner_and_no_pause_form(small_sandbox, app_server):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    staff = signed_in(app_server.base_url, seed.STAFF_EMAIL)
    for page in ("/", "/audit", "/keys", "/pause"):
        assert "banner-normal" in em.get(page).text, page
    answer = em.post("/pause", data={"reason": "Storm warning", "confirm": "PAUSE",
                                     "csrf_token": csrf(em)})  # fmt: skip
    assert answer.status_code == 303
    wait_for(lambda: "banner-paused" in em.get("/").text and "PAUSE ALL" not in em.get("/").text)
    for who, pages in ((em, ("/", "/audit", "/keys", "/pause", "/no-such-page")),
                       (staff, ("/", "/audit", "/keys", "/pause", "/no-such-page"))):  # fmt: skip
        for path in pages:
            # Other pages read the shared status (at most STATUS_MAX_AGE old).
            text = page_showing(who, path, "banner-paused")
            assert "Storm warning" in text, path
    # The pause form is not offered while paused: resume instead, on both pages.
    for path in ("/", "/pause"):
        text = em.get(path).text
        assert 'name="confirm"' not in text and "PAUSE ALL SCHEDULED POSTS" not in text, path
        assert 'id="resume-form"' in text, path
    assert 'id="already-paused"' in em.get("/pause").text
    assert 'id="resume-form"' not in staff.get("/pause").text


def test_emergency_pages_answer_a_styled_403_to_others(app_server):
    staff = signed_in(app_server.base_url, seed.STAFF_EMAIL)
    keys = staff.get("/keys")
    assert keys.status_code == 403
    assert keys.headers["content-type"].startswith("text/html")
    assert STYLED in keys.text and "Only for the emergency team" in keys.text
    assert "banner-normal" in keys.text and "Sign out" in keys.text  # the whole page frame
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    assert em.get("/keys").status_code == 200


def test_people_get_pages_and_the_api_gets_json(app_server):
    base = app_server.base_url
    anonymous = httpx.get(f"{base}/no-such-page", timeout=15)
    assert anonymous.status_code == 404
    assert anonymous.headers["content-type"].startswith("text/html")
    assert STYLED in anonymous.text and "Page not found" in anonymous.text
    em = signed_in(base, seed.EM_EMAIL)
    page = em.get("/no/such/page")
    assert page.status_code == 404 and "Page not found" in page.text and "Sign out" in page.text
    for answer in (httpx.get(f"{base}/api/no-such-thing", timeout=15),
                   httpx.get(f"{base}/no-such-page", headers={"accept": "application/json"},
                             timeout=15)):  # fmt: skip
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["error"] == "page not found"
    wrong_method = httpx.delete(f"{base}/api/status", timeout=15)
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


async def test_an_unexpected_failure_is_a_page_or_json_without_a_traceback(caplog):
    app = FastAPI()
    app.add_exception_handler(Exception, server_error_handler)

    @app.get("/boom")
    @app.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with caplog.at_level(logging.ERROR):
            page = await client.get("/boom")
            api = await client.get("/api/boom")
    assert page.status_code == 500 and "Something went wrong on our side" in page.text
    assert STYLED in page.text and "secret internals" not in page.text
    assert api.status_code == 500 and api.json()["error"] == "internal error"
    assert "secret internals" not in api.text
    assert any(r.exc_info for r in caplog.records), "the failure is logged with its traceback"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_logs_are_short_lines_on_a_terminal_and_json_when_asked(monkeypatch):
    monkeypatch.delenv(logs.LOG_FORMAT_VARIABLE, raising=False)
    assert logs.chosen_format(_Terminal()) == "human"
    assert logs.chosen_format(io.StringIO()) == "json"
    monkeypatch.setenv(logs.LOG_FORMAT_VARIABLE, "json")
    assert logs.chosen_format(_Terminal()) == "json"
    record = logging.makeLogRecord({
        "msg": "request", "levelno": logging.INFO, "levelname": "INFO", "method": "GET",
        "path": "/api/status", "route": "/api/status", "status": 200, "duration_ms": 3.1,
    })  # fmt: skip
    line = logs.HumanFormatter().format(record)
    assert line.endswith("GET /api/status 200 3.1 ms") and "\n" not in line
    assert len(line) < 40
    entry = json.loads(logs.JsonFormatter().format(record))
    assert entry["message"] == "request" and entry["status"] == 200
    warning = logging.makeLogRecord({"msg": "could not reach %s", "args": ("Hootsuite",),
                                     "levelno": logging.WARNING, "levelname": "WARNING",
                                     "organization": "832420"})  # fmt: skip
    assert (
        logs.HumanFormatter()
        .format(warning)
        .endswith("WARNING could not reach Hootsuite organization=832420")
    )


def test_serve_logs_human_lines_on_a_terminal(monkeypatch):
    """configure() picks the formatter from the variable, for every logger."""
    monkeypatch.setenv(logs.LOG_FORMAT_VARIABLE, "human")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure()
        assert isinstance(root.handlers[0].formatter, logs.HumanFormatter)
        monkeypatch.setenv(logs.LOG_FORMAT_VARIABLE, "json")
        logs.configure()
        assert isinstance(root.handlers[0].formatter, logs.JsonFormatter)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
