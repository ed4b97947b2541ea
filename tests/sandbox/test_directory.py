"""Members, organizations, teams and social profiles, and live team changes."""

from __future__ import annotations

from empause.sandbox import seed


def test_me_and_organizations(sandbox, em):
    assert em.get("/v1/me").json()["data"]["id"] == seed.EM_MEMBER_ID
    assert em.get("/v1/me/organizations").json()["data"][0]["id"] == seed.ORG_ID
    profiles = em.get("/v1/me/socialProfiles").json()["data"]
    assert {p["id"] for p in profiles} == set(seed.PROFILE_IDS)
    assert len({p["type"] for p in profiles}) >= 4


def test_teams_and_members(sandbox, em, org):
    teams = org.get(f"/v1/organizations/{seed.ORG_ID}/teams").json()["data"]
    assert {t["id"]: t["name"] for t in teams}[seed.EM_TEAM_ID] == "Emergency Management"
    assert "Marketing" in {t["name"] for t in teams}
    members = em.get(f"/v1/organizations/{seed.ORG_ID}/members").json()["data"]
    assert {seed.EM_MEMBER_ID, seed.STAFF_MEMBER_ID} <= {m["id"] for m in members}
    em_teams = em.get(
        f"/v1/organizations/{seed.ORG_ID}/members/{seed.EM_MEMBER_ID}/teams").json()["data"]
    assert {"id": seed.EM_TEAM_ID} in em_teams
    team_members = org.get(
        f"/v1/organizations/{seed.ORG_ID}/teams/{seed.EM_TEAM_ID}/members").json()["data"]
    assert {"id": seed.STAFF_MEMBER_ID} not in team_members
    assert org.get(f"/v1/teams/{seed.EM_TEAM_ID}").json()["data"]["name"] == "Emergency Management"
    permissions = org.get(
        f"/v1/organizations/{seed.ORG_ID}/members/{seed.ADMIN_MEMBER_ID}/permissions").json()
    assert permissions["data"]["permissions"]
    assert em.get(f"/v1/members/{seed.STAFF_MEMBER_ID}").json()["data"]["email"] == seed.STAFF_EMAIL
    assert em.get(f"/v1/members/{seed.STAFF_MEMBER_ID}/organizations").json()["data"] == [
        {"id": seed.ORG_ID}
    ]
    profile = org.get(f"/v1/socialProfiles/{seed.TWITTER_PROFILE_ID}").json()["data"]
    assert profile["type"] == "TWITTER" and profile["owner"] == "ORGANIZATION"
    profile_teams = org.get(f"/v1/socialProfiles/{seed.THREADS_PROFILE_ID}/teams").json()["data"]
    assert profile_teams == [{"id": seed.EM_TEAM_ID}]
    assert len(org.get("/v1/socialProfiles").json()["data"]) == len(seed.PROFILE_IDS)


def test_unknown_ids_are_4xx_envelopes(sandbox, org):
    for path in ("/v1/teams/1", "/v1/members/1", f"/v1/organizations/{seed.ORG_ID}/teams/1/members",
                 "/v1/organizations/1/members", "/v1/socialProfiles/1", "/v1/messages/1",
                 "/v1/messages/abc/history"):
        response = org.get(path)
        assert 400 <= response.status_code < 500, path
        assert response.json()["errors"][0]["code"], path


def test_team_change_is_visible_at_once(sandbox, em):
    path = f"/v1/organizations/{seed.ORG_ID}/members/{seed.STAFF_MEMBER_ID}/teams"
    assert {"id": seed.EM_TEAM_ID} not in em.get(path).json()["data"]
    sandbox.control.set_member(seed.STAFF_MEMBER_ID, teams=[seed.EM_TEAM_ID])
    assert em.get(path).json()["data"] == [{"id": seed.EM_TEAM_ID}]
    sandbox.control.set_member(seed.EM_MEMBER_ID, teams=[])
    assert em.get(f"/v1/organizations/{seed.ORG_ID}/members/{seed.EM_MEMBER_ID}/teams").json()[
        "data"] == []
