"""The control API, determinism of the seed, and 'bad input is a 4xx, never a 500'."""

from __future__ import annotations

import httpx

from empause.sandbox import seed
from empause.sandbox.server import SandboxServer


def test_demo_seed_shape_and_determinism(sandbox):
    state = sandbox.control.state()
    messages = state["messages"]
    states = {m["state"] for m in messages}
    assert {"SCHEDULED", "PENDING_APPROVAL", "SENT"} <= states
    assert sum(m["state"] == "SCHEDULED" for m in messages) == 300
    authors = {m["createdByMember"]["id"] for m in messages}
    assert authors == {seed.STAFF_MEMBER_ID, seed.EM_MEMBER_ID, seed.ADMIN_MEMBER_ID}
    for name in ("media", "mediaUrls", "tags", "targeting", "privacy", "location", "webhookUrls"):
        assert any(name in m for m in messages), name
    assert state["published"] == [] and isinstance(state["calls"], dict)
    again = sandbox.control.reset(messages=300, rng=7)
    assert again["messages"] == len(messages)
    texts = [(m["id"], m["text"], m["socialProfile"]["id"]) for m in messages]
    assert texts == [(m["id"], m["text"], m["socialProfile"]["id"])
                     for m in sandbox.control.state()["messages"]]
    other = sandbox.control.reset(messages=300, rng=8)
    assert other["messages"] == len(messages)
    assert texts != [(m["id"], m["text"], m["socialProfile"]["id"])
                     for m in sandbox.control.state()["messages"]]


def test_reset_clears_tokens_and_counts(sandbox, em):
    assert em.get("/v1/me").status_code == 200
    assert sandbox.control.state()["calls"]["GET /v1/me"] == 1
    sandbox.control.reset()
    assert em.get("/v1/me").status_code == 401
    assert sandbox.control.state()["calls"] == {"GET /v1/me": 1, "GET /_sandbox/state": 1}


def test_clock_set_and_freeze(sandbox):
    result = sandbox.control.clock(now="2031-01-01T00:00:00Z", frozen=True)
    assert result["now"] == "2031-01-01T00:00:00Z" and result["frozen"] is True
    read = httpx.get(f"{sandbox.base_url}/_sandbox/clock").json()  # reading publishes nothing
    assert read["now"] == "2031-01-01T00:00:00Z" and read["frozen"] is True
    assert read["now_precise"].startswith("2031-01-01T00:00:00") and "published" not in read
    assert sandbox.control.clock(advance_seconds=90)["now"] == "2031-01-01T00:01:30Z"
    assert sandbox.control.clock(frozen=False)["frozen"] is False
    # every seeded SCHEDULED message was due before 2031: all published at once
    published = sandbox.control.state()["published"]
    assert len(published) >= 300


def test_bad_input_is_never_a_500(sandbox, em):
    payloads = [b"", b"null", b"[]", b"{", b"\xff\xfe", b'{"text": []}',
                b'{"socialProfileIds": "115185502"}', b'{"sequenceNumber": "1"}',
                b'{"socialProfileIds": [true], "text": "x"}',
                b'{"text": "x", "socialProfileIds": ["115185502"], "scheduledSendTime": 5}',
                b'{"text": "x", "socialProfileIds": ["115185502"], "location": {"latitude": "n"}}']
    paths = ["/v1/messages", "/v1/messages/4100000001/approve", "/v1/messages/4100000001/reject",
             "/_sandbox/faults", "/_sandbox/clock", "/_sandbox/reset", "/_sandbox/webhooks",
             f"/_sandbox/members/{seed.STAFF_MEMBER_ID}"]
    for path in paths:
        for payload in payloads:
            response = em.post(path, content=payload, headers={"content-type": "application/json"})
            assert response.status_code < 500, (path, payload, response.text)
    queries = [{}, {"startTime": "x", "endTime": "y"}, {"startTime": "2030-01-01T00:00:00"},
               {"startTime": "2030-01-01T00:00:00Z", "endTime": "2030-01-02T00:00:00Z",
                "limit": "ten"},
               {"startTime": "2030-01-01T00:00:00Z", "endTime": "2030-01-02T00:00:00Z",
                "cursor": "1:2:3"},
               {"startTime": "2030-01-02T00:00:00Z", "endTime": "2030-01-01T00:00:00Z"}]
    for query in queries:
        response = em.get("/v1/messages", params=query)
        assert 400 <= response.status_code < 500 and response.json()["errors"], query
    assert em.put("/v1/messages").status_code == 405
    token = httpx.post(f"{sandbox.base_url}/oauth2/token", content=b"\xff\xfe=&&=",
                       auth=(seed.CLIENT_ID, seed.CLIENT_SECRET))
    assert token.status_code == 400


def test_control_api_is_off_without_a_seed():
    with SandboxServer(messages=0, control=False) as server:
        assert httpx.get(f"{server.base_url}/_sandbox/state").status_code == 404
        assert httpx.post(f"{server.base_url}/_sandbox/reset").status_code == 404


def test_several_organizations_each_with_their_own_world_and_budget(sandbox):
    sandbox.control.reset(seed="demo", messages=20, rng=7, organizations=3)
    state = sandbox.control.state()
    orgs = state["organizations"]
    assert (orgs[0]["id"], orgs[0]["emergency_team_id"]) == (seed.ORG_ID, seed.EM_TEAM_ID)
    assert len({o["id"] for o in orgs}) == 3 and len({o["emergency_team_id"] for o in orgs}) == 3
    emails = [m["email"] for o in orgs for m in o["members"]]
    assert len(emails) == len(set(emails)) == 9 and seed.EM_EMAIL in emails
    assert all(sum(m["emergency"] for m in o["members"]) == 2 for o in orgs)  # em + admin
    # Each organization's own token sees only its own profiles, with its own rate budget,
    # and each has its own scheduled messages.
    owner: dict[str, str] = {}
    for org in orgs:
        token = sandbox.control.token(organization_id=org["id"])
        answer = httpx.get(f"{sandbox.base_url}/v1/socialProfiles",
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert answer.status_code == 200
        assert answer.headers["x-account-rate-limit-requests-remaining"] == "19"
        owner.update({p["id"]: org["id"] for p in answer.json()["data"]})
        assert all(p["ownerId"] == org["id"] for p in answer.json()["data"])
    scheduled: dict[str, int] = {}
    for message in state["messages"]:
        if message["state"] == "SCHEDULED":
            org_id = owner[message["socialProfile"]["id"]]
            scheduled[org_id] = scheduled.get(org_id, 0) + 1
    assert scheduled == {o["id"]: 20 for o in orgs}
