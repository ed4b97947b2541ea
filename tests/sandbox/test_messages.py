"""Messages over real HTTP: windows, cursors, filters, create, delete, approval, history."""

from __future__ import annotations

from datetime import timedelta

import httpx

from empause.domain.timeutil import format_time, parse_time
from empause.sandbox import seed
from tests.sandbox.conftest import later, sandbox_now


def _window(sandbox, days: float = 28) -> dict:
    now = sandbox_now(sandbox)
    return {"startTime": format_time(now - timedelta(days=7)),
            "endTime": format_time(now - timedelta(days=7) + timedelta(days=days))}


def _all_pages(client: httpx.Client, params: dict) -> list[dict]:
    items, cursor = [], None
    while True:
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        body = client.get("/v1/messages", params=query).json()
        items += body["data"]
        cursor = body["metadata"]["cursor"]["next"]
        if not cursor:
            return items


def test_list_is_sorted_paginated_and_complete(sandbox, org):
    params = {**_window(sandbox), "limit": 100}
    items = _all_pages(org, params)
    keys = [(parse_time(m["scheduledSendTime"]), int(m["id"])) for m in items]
    assert keys == sorted(keys)
    assert len({m["id"] for m in items}) == len(items)
    state = sandbox.control.state()
    start, end = (parse_time(params["startTime"]), parse_time(params["endTime"]))
    expected = {
        m["id"] for m in state["messages"]
        if not m["deleted"] and start <= parse_time(m["scheduledSendTime"]) < end
    }
    assert {m["id"] for m in items} == expected


def test_default_limit_and_previous_cursor(sandbox, org):
    first = org.get("/v1/messages", params=_window(sandbox)).json()
    assert len(first["data"]) == 50
    assert first["metadata"]["cursor"]["previous"] is None
    second = org.get(
        "/v1/messages", params={**_window(sandbox), "cursor": first["metadata"]["cursor"]["next"]}
    ).json()
    back = org.get(
        "/v1/messages",
        params={**_window(sandbox), "cursor": second["metadata"]["cursor"]["previous"]},
    ).json()
    assert [m["id"] for m in back["data"]] == [m["id"] for m in first["data"]]


def test_window_limit_state_and_profile_filters(sandbox, org):
    now = sandbox_now(sandbox)
    too_long = {"startTime": format_time(now),
                "endTime": format_time(now + timedelta(days=28, seconds=1))}
    response = org.get("/v1/messages", params=too_long)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 40020
    assert org.get("/v1/messages", params={**_window(sandbox), "limit": 101}).status_code == 400
    bad_state = org.get("/v1/messages", params={**_window(sandbox), "state": "NOPE"})
    assert bad_state.json()["errors"][0]["code"] == 40019
    missing = org.get("/v1/messages", params={"startTime": format_time(now)})
    assert missing.status_code == 400 and "errors" in missing.json()
    pending = _all_pages(org, {**_window(sandbox), "state": "PENDING_APPROVAL", "limit": 100})
    assert pending and all(m["state"] == "PENDING_APPROVAL" for m in pending)
    wanted = [seed.FACEBOOK_PROFILE_ID, seed.LINKEDIN_PROFILE_ID]
    url = httpx.URL("/v1/messages", params=[*_window(sandbox).items(), ("limit", "100"),
                                             ("socialProfileIds", wanted[0]),
                                             ("socialProfileIds", wanted[1])])
    picked = org.get(url).json()["data"]
    assert picked and {m["socialProfile"]["id"] for m in picked} == set(wanted)
    bad_cursor = org.get("/v1/messages", params={**_window(sandbox), "cursor": "garbage"})
    assert bad_cursor.json()["errors"][0]["code"] == 3020


def test_create_keeps_every_field(sandbox, em):
    fields = {
        "text": "Storm update",
        "socialProfileIds": [seed.FACEBOOK_PROFILE_ID, seed.LINKEDIN_PROFILE_ID],
        "scheduledSendTime": later(sandbox, hours=2),
        "webhookUrls": ["http://127.0.0.1:9/hook"],
        "tags": ["storm"],
        "targeting": {"facebookPage": {"ageMin": 18}},
        "privacy": {"facebook": {"visibility": ["everyone"]}},
        "location": {"latitude": 49.2, "longitude": -123.1},
        "emailNotification": True,
        "mediaUrls": [{"url": "http://static.ow.ly/photos/normal/x.jpg"}],
        "media": [{"id": "bWVkaWE="}],
        "extendedInfo": [{"socialProfileType": "PINTEREST", "socialProfileId": "1",
                          "data": {"boardId": "2"}}],
    }
    response = em.post("/v1/messages", json=fields)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert isinstance(data, list) and len(data) == 2
    for created in data:
        assert created["state"] == "SCHEDULED"
        assert created["createdByMember"] == {"id": seed.EM_MEMBER_ID}
        fetched = em.get(f"/v1/messages/{created['id']}").json()["data"]
        for name, value in fields.items():
            if name != "socialProfileIds":
                assert without_nulls(fetched[name]) == value, name  # nulls: keys left unset
    assert {m["socialProfile"]["id"] for m in data} == set(fields["socialProfileIds"])


def without_nulls(value: object) -> object:
    """A representation without the keys Hootsuite fills with null for what was not set."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def test_create_validation(sandbox, em):
    base = {"text": "x", "socialProfileIds": [seed.FACEBOOK_PROFILE_ID]}

    def code(body):
        response = em.post("/v1/messages", json=body)
        assert 400 <= response.status_code < 500, response.text
        return response.json()["errors"][0]["code"]

    assert code({**base, "scheduledSendTime": later(sandbox, hours=1).replace("Z", "+00:00")}) == 4000
    assert code({**base, "scheduledSendTime": later(sandbox, hours=-1)}) == 4000
    assert code({**base, "scheduledSendTime": later(sandbox, hours=1),
                 "socialProfileIds": [seed.TWITTER_PROFILE_ID, seed.FACEBOOK_PROFILE_ID]}) == 40023
    assert code({**base, "tags": "not-a-list"}) == 4000
    assert code({**base, "mediaUrls": [{"url": "http://evil.example/x.jpg"}]}) == 40004
    assert code({**base, "socialProfileIds": ["999"]}) == 4001
    assert code({**base, "socialProfileIds": []}) == 2306
    malformed = em.post("/v1/messages", content=b"{nope",
                        headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["code"] == 1100
    assert em.post("/v1/messages", json=[1, 2]).status_code == 400


def test_auth_errors(sandbox):
    plain = httpx.get(f"{sandbox.base_url}/v1/me")
    assert plain.status_code == 401 and plain.json()["errors"][0]["code"] == 1000
    bad = httpx.get(f"{sandbox.base_url}/v1/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["errors"][0]["code"] == 1001
    unknown = httpx.get(f"{sandbox.base_url}/v1/nothing")
    assert unknown.status_code == 404 and "errors" in unknown.json()


def test_delete_rules(sandbox, org):
    state = sandbox.control.state()
    sent = next(m for m in state["messages"] if m["state"] == "SENT")
    response = org.delete(f"/v1/messages/{sent['id']}")
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 40003
    scheduled = next(m for m in state["messages"] if m["state"] == "SCHEDULED")
    assert org.delete(f"/v1/messages/{scheduled['id']}").status_code == 200
    assert org.get(f"/v1/messages/{scheduled['id']}").status_code == 404
    assert org.delete(f"/v1/messages/{scheduled['id']}").status_code == 404
    after = {m["id"]: m for m in sandbox.control.state()["messages"]}
    assert after[scheduled["id"]]["deleted"] is True
    assert after[scheduled["id"]]["history"][-1]["actionType"] == "DELETE"


def test_approval_workflow(sandbox, client_for, org):
    staff = client_for(seed.STAFF_MEMBER_ID)
    created = staff.post("/v1/messages", json={
        "text": "needs a look", "socialProfileIds": [seed.FACEBOOK_PROFILE_ID],
        "scheduledSendTime": later(sandbox, hours=3)}).json()["data"][0]
    assert created["state"] == "PENDING_APPROVAL"
    number = created["sequenceNumber"]
    assert created["reviewers"]
    wrong = org.post(f"/v1/messages/{created['id']}/approve", json={"sequenceNumber": number + 5})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["code"] == 4000
    ok = org.post(f"/v1/messages/{created['id']}/approve", json={"sequenceNumber": number})
    assert ok.status_code == 200 and ok.json() == {"data": {}}
    assert org.get(f"/v1/messages/{created['id']}").json()["data"]["state"] == "SCHEDULED"
    again = org.post(f"/v1/messages/{created['id']}/approve", json={"sequenceNumber": number})
    assert again.status_code == 400 and again.json()["errors"][0]["code"] == 4000
    history = org.get(f"/v1/messages/{created['id']}/history").json()["data"]["actions"]
    assert [a["actionType"] for a in history] == ["CREATE", "APPROVE"]

    other = staff.post("/v1/messages", json={
        "text": "no", "socialProfileIds": [seed.FACEBOOK_PROFILE_ID],
        "scheduledSendTime": later(sandbox, hours=3)}).json()["data"][0]
    missing_reason = org.post(f"/v1/messages/{other['id']}/reject", json={"sequenceNumber": 1})
    assert missing_reason.status_code == 400
    rejected = org.post(f"/v1/messages/{other['id']}/reject",
                        json={"sequenceNumber": other["sequenceNumber"], "reason": "tone"})
    assert rejected.status_code == 200
    assert org.get(f"/v1/messages/{other['id']}").json()["data"]["state"] == "REJECTED"


def test_member_visibility(sandbox, client_for):
    staff = client_for(seed.STAFF_MEMBER_ID)
    items = _all_pages(staff, {**_window(sandbox), "limit": 100})
    allowed = set(seed.MARKETING_PROFILE_IDS)
    assert all(
        m["socialProfile"]["id"] in allowed or m["createdByMember"]["id"] == seed.STAFF_MEMBER_ID
        for m in items
    )
    threads = next(
        m for m in sandbox.control.state()["messages"]
        if m["socialProfile"]["id"] == seed.THREADS_PROFILE_ID
        and m["createdByMember"]["id"] != seed.STAFF_MEMBER_ID
    )
    assert staff.get(f"/v1/messages/{threads['id']}").status_code == 404


def test_org_token_message_has_no_creator(sandbox, org):
    created = org.post("/v1/messages", json={
        "text": "from the org app", "socialProfileIds": [seed.TWITTER_PROFILE_ID],
        "scheduledSendTime": later(sandbox, hours=1)}).json()["data"][0]
    assert created["createdByMember"] is None  # present, as every key of the schema
    assert created["state"] == "SCHEDULED"
