"""Bad input on every form and API route: a clear 4xx that says what was wrong, and
nothing changed."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from empause.sandbox import seed
from empause.store.models import Operation, Organization
from tests.web.helpers import client, create_api_key, csrf, signed_in

GOOD = {"reason": "Storm warning", "confirm": "PAUSE"}


async def assert_untouched(db) -> None:
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Operation)) == 0
        org = await session.get(Organization, seed.ORG_ID)
        assert org is None or not org.paused


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"reason": ""}, "say why you are pausing"),
        ({"reason": "   "}, "say why you are pausing"),
        ({"reason": "x" * 501}, "Reason"),
        ({"confirm": ""}, "Type PAUSE"),
        ({"confirm": "pause"}, "Type PAUSE"),
        ({"strategy": "explode"}, "Strategy"),
        ({"horizon": "soon"}, "Window: a duration such as 7d"),
        ({"horizon": "0"}, "more than 0"),
        ({"horizon": "400d"}, "at most 90 days"),
        ({"shift": "-1d"}, "Move by"),
    ],
)
async def test_bad_pause_forms_are_explained(app_server, db, change, says):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    answer = em.post("/pause", data={**GOOD, **change, "csrf_token": csrf(em)})
    assert answer.status_code == 422
    assert "Nothing was changed" in answer.text and says in answer.text
    await assert_untouched(db)


async def test_bad_resume_form_is_explained(app_server, db):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    answer = em.post("/resume", data={"restore": "yesterday", "csrf_token": csrf(em)})
    assert answer.status_code == 422 and "restore the original times" in answer.text
    await assert_untouched(db)


@pytest.mark.parametrize("name", ["", "   ", "k" * 101])
def test_bad_key_names_are_explained(app_server, name):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    answer = em.post("/keys", data={"name": name, "csrf_token": csrf(em, "/keys")})
    assert answer.status_code == 422 and "Name:" in answer.text
    assert 'id="new-key"' not in answer.text


@pytest.fixture
def api(app_server):
    key = create_api_key(signed_in(app_server.base_url, seed.EM_EMAIL))
    return httpx.Client(
        base_url=app_server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=15
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": 42}, "reason"),
        ({"reason": "x", "strategy": "explode"}, "strategy"),
        ({"reason": "x", "horizon": "soon"}, "horizon"),
        ({"reason": "x", "shift": "0"}, "shift"),
        ({"reason": "x", "surprise": True}, "surprise"),
        ([1, 2], "body"),
    ],
)
async def test_bad_api_pause_bodies_are_explained(api, db, body, field):
    answer = api.post("/api/pause", json=body)
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert any(p["field"].startswith(field) for p in problems), problems
    await assert_untouched(db)


async def test_api_pause_that_is_not_json_is_explained(api, db):
    answer = api.post(
        "/api/pause", content=b"reason=storm", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422 and answer.json()["error"] == "invalid request"
    await assert_untouched(db)


@pytest.mark.parametrize("body", [{"restore": "maybe"}, {"restore": "original", "x": 1}])
async def test_bad_api_resume_bodies_are_explained(api, db, body):
    answer = api.post("/api/resume", json=body)
    assert answer.status_code == 422 and answer.json()["problems"]
    await assert_untouched(db)


@pytest.mark.parametrize(
    "header", [None, "Basic abc", "Bearer", "Bearer emp_nothing_real", "bearer wrong"]
)
async def test_api_without_a_valid_key_is_refused(app_server, db, header):
    headers = {"Authorization": header} if header is not None else {}
    for method, path in (("GET", "/api/status"), ("POST", "/api/pause"), ("POST", "/api/resume")):
        answer = client(app_server.base_url).request(
            method, path, headers=headers, json={"reason": "x"}
        )
        assert answer.status_code == 401, (method, path)
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "API key" in answer.json()["detail"]
    await assert_untouched(db)


async def test_a_revoked_key_is_refused(app_server, db):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    key = create_api_key(em)
    em.post("/keys/1/revoke", data={"csrf_token": csrf(em)})
    answer = client(app_server.base_url).get(
        "/api/status", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
