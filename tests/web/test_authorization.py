"""Every state-changing route, for every kind of caller: only the emergency team acts,
checked against the platform at the moment of the action (invariant 6), behind CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from empause.sandbox import seed
from empause.store.db import Database
from empause.store.models import ApiKey, Operation, Organization
from tests.web.helpers import client, create_api_key, csrf, signed_in

PAUSE_FORM = {"reason": "Storm warning", "confirm": "PAUSE"}
ACTIONS = [
    ("/pause", PAUSE_FORM),
    ("/resume", {"restore": "original"}),
    ("/keys", {"name": "alerting"}),
]


async def nothing_changed(db: Database) -> None:
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Operation)) == 0
        assert await session.scalar(select(func.count()).select_from(ApiKey)) == 0
        org = await session.get(Organization, seed.ORG_ID)
        assert org is None or not org.paused


@pytest.mark.parametrize(("path", "form"), ACTIONS)
async def test_signed_out_cannot_act(app_server, db, path, form):
    answer = client(app_server.base_url).post(path, data=form)
    assert answer.status_code == 401
    await nothing_changed(db)


@pytest.mark.parametrize(("path", "form"), ACTIONS)
async def test_staff_cannot_act_even_with_a_valid_csrf_token(app_server, db, path, form):
    staff = signed_in(app_server.base_url, seed.STAFF_EMAIL)
    answer = staff.post(path, data={**form, "csrf_token": csrf(staff)})
    assert answer.status_code == 403
    assert "not (or no longer) a member of the emergency team" in answer.text
    await nothing_changed(db)


@pytest.mark.parametrize(("path", "form"), ACTIONS)
async def test_forms_without_or_with_a_wrong_csrf_token_are_refused(app_server, db, path, form):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    assert em.post(path, data=form).status_code == 403
    answer = em.post(path, data={**form, "csrf_token": "not-the-token"})
    assert answer.status_code == 403 and "expired" in answer.text
    await nothing_changed(db)


async def test_csrf_token_of_another_session_is_refused(app_server, db):
    staff = signed_in(app_server.base_url, seed.STAFF_EMAIL)
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    assert em.post("/pause", data={**PAUSE_FORM, "csrf_token": csrf(staff)}).status_code == 403
    await nothing_changed(db)


async def test_membership_removed_upstream_refuses_the_next_action(app_server, db):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    token = csrf(em)
    app_server.sandbox.control.set_member(seed.EM_MEMBER_ID, teams=[])
    answer = em.post("/pause", data={**PAUSE_FORM, "csrf_token": token})
    assert answer.status_code == 403
    page = em.get("/")
    assert page.status_code == 200 and 'id="readonly-note"' in page.text
    assert 'id="pause-button"' not in page.text  # the controls go too
    await nothing_changed(db)


async def test_api_key_stops_working_when_its_creator_leaves_the_team(app_server, db):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    key = create_api_key(em)
    api = client(app_server.base_url)
    api.headers["Authorization"] = f"Bearer {key}"
    assert api.get("/api/status").status_code == 200
    app_server.sandbox.control.set_member(seed.EM_MEMBER_ID, teams=[seed.MARKETING_TEAM_ID])
    answer = api.post("/api/pause", json={"reason": "x"})
    assert answer.status_code == 403
    assert "emergency team" in answer.json()["detail"]
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Operation)) == 0


def test_pages_need_a_session(app_server):
    anonymous = client(app_server.base_url)
    for path in ("/audit", "/audit.csv", "/keys", "/pause", "/events/status"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/", path


def test_staff_sees_the_audit_log_but_not_the_keys_page(app_server):
    staff = signed_in(app_server.base_url, seed.STAFF_EMAIL)
    assert staff.get("/audit").status_code == 200
    keys = staff.get("/keys")
    assert keys.status_code == 403 and "Only for the emergency team" in keys.text
    assert 'id="create-key"' not in keys.text


async def test_revoking_needs_the_emergency_team_and_csrf(app_server, db):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    create_api_key(em)
    async with db.sessions() as session:
        key_id = await session.scalar(select(ApiKey.id))
    staff = signed_in(app_server.base_url, seed.STAFF_EMAIL)
    assert staff.post(f"/keys/{key_id}/revoke", data={"csrf_token": csrf(staff)}).status_code == 403
    assert em.post(f"/keys/{key_id}/revoke", data={}).status_code == 403
    assert em.post("/keys/999/revoke", data={"csrf_token": csrf(em)}).status_code == 404
    async with db.sessions() as session:
        assert (await session.get(ApiKey, key_id)).revoked_at is None
    assert em.post(f"/keys/{key_id}/revoke", data={"csrf_token": csrf(em)}).status_code == 303
    async with db.sessions() as session:
        assert (await session.get(ApiKey, key_id)).revoked_at is not None
