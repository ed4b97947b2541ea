"""Every implemented endpoint's responses validate against the official Swagger 2.0 spec.

The spec (a verbatim copy of the official file, shipped in empause/sandbox/spec/) is loaded with pyyaml
and its `#/definitions/...` refs resolved by jsonschema (Draft 4). Two known defects of the
spec are patched, each documented here: DeleteMessageResponseEnvelope's `"$ref": ""` is
treated as "any", and fields whose description says "null" (cursor next/previous,
socialNetworkUsername, avatarUrl on TWITTER) also accept null; and, as Hootsuite sends null
for every property it has no value for, any property that is not required may be null.
"""

from __future__ import annotations

import copy
import functools
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import jsonschema
import pytest
import yaml

from empause.sandbox import representations, seed
from tests.sandbox.conftest import later, sandbox_now

SPEC_PATH = representations.SPEC_PATH


@functools.cache
def spec() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(SPEC_PATH.read_text(), Loader=loader)
    defs = copy.deepcopy(data["definitions"])
    defs["DeleteMessageResponseEnvelope"]["properties"]["data"]["items"] = {}
    cursor = defs["SocialProfileMessagesResponseEnvelope"]["properties"]["metadata"]
    for name in ("next", "previous"):
        cursor["properties"]["cursor"]["properties"][name]["type"] = ["string", "null"]
    for node in defs.values():
        _nullable_properties(node)
    data["definitions"] = defs
    return data


def _nullable_properties(node: object) -> None:
    """Swagger 2.0 cannot say "or null"; Hootsuite sends null for every property it has no
    value for (and the sandbox must too), so a property that is not required may be null."""
    if isinstance(node, list):
        for item in node:
            _nullable_properties(item)
        return
    if not isinstance(node, dict):
        return
    required = set(node.get("required") or ())
    for key, child in (node.get("properties") or {}).items():
        _nullable_properties(child)
        if key in required or not isinstance(child, dict):
            continue
        if "$ref" in child:
            node["properties"][key] = {"anyOf": [{"$ref": child["$ref"]}, {"type": "null"}]}
        elif isinstance(child.get("type"), str):
            child["type"] = [child["type"], "null"]
    for key in ("items", "allOf", "anyOf", "additionalProperties"):
        if key in node:
            _nullable_properties(node[key])


def schema(path: str, method: str, status: str) -> dict:
    operation = spec()["paths"][path][method.lower()]
    response = operation["responses"].get(status)
    if response is None or "schema" not in response:  # e.g. 401/404/429: the errors envelope
        body = {"$ref": "#/definitions/ErrorsResponseEnvelope"}
    else:
        body = response["schema"]
    return {**body, "definitions": spec()["definitions"]}


def _resolve(node: dict) -> dict:
    while node.get("$ref"):
        node = spec()["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def missing_keys(value: object, node: dict, where: str = "") -> list[str]:
    """Every property the schema defines that the body leaves out (Hootsuite sends them all,
    null where unset), at any depth."""
    node = _resolve(node)
    missing: list[str] = []
    if isinstance(value, dict) and node.get("properties"):
        for key, child in node["properties"].items():
            if key not in value:
                missing.append(f"{where}.{key}")
            elif value[key] is not None:
                missing += missing_keys(value[key], child, f"{where}.{key}")
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for index, item in enumerate(value[:5]):
            missing += missing_keys(item, node["items"], f"{where}[{index}]")
    return missing


def check(response: httpx.Response, path: str, method: str | None = None) -> dict:
    """Validate a response body against the spec's schema for its path and status, and that
    it carries every key the schema defines."""
    method = method or response.request.method
    body = response.json()
    body_schema = schema(path, method, str(response.status_code))
    jsonschema.Draft4Validator(body_schema).validate(body)
    if response.status_code < 400 and not path.startswith("/oauth2/"):  # OAuth: RFC 6749's
        assert missing_keys(body, body_schema) == [], f"{method} {path}"
    if response.status_code >= 400 and not path.startswith("/oauth2/"):
        assert body["errors"] and isinstance(body["errors"][0]["code"], int)
    return body


def test_spec_is_the_official_file():
    assert spec()["swagger"] == "2.0"
    assert "/v1/messages" in spec()["paths"]


def test_directory_endpoints_conform(sandbox, em, org):
    o, m, t = seed.ORG_ID, seed.EM_MEMBER_ID, seed.EM_TEAM_ID
    p = seed.TWITTER_PROFILE_ID
    calls = [
        (em, "/v1/me", "/v1/me"),
        (em, "/v1/me/organizations", "/v1/me/organizations"),
        (em, "/v1/me/socialProfiles", "/v1/me/socialProfiles"),
        (org, "/v1/socialProfiles", "/v1/socialProfiles"),
        (org, f"/v1/socialProfiles/{p}", "/v1/socialProfiles/{socialProfileId}"),
        (org, f"/v1/socialProfiles/{p}/teams", "/v1/socialProfiles/{socialProfileId}/teams"),
        (em, f"/v1/members/{m}", "/v1/members/{memberId}"),
        (em, f"/v1/members/{m}/organizations", "/v1/members/{memberId}/organizations"),
        (org, f"/v1/organizations/{o}/members", "/v1/organizations/{organizationId}/members"),
        (org, f"/v1/organizations/{o}/members/{m}/teams",
         "/v1/organizations/{organizationId}/members/{memberId}/teams"),
        (org, f"/v1/organizations/{o}/members/{m}/permissions",
         "/v1/organizations/{organizationId}/members/{memberId}/permissions"),
        (org, f"/v1/organizations/{o}/teams", "/v1/organizations/{organizationId}/teams"),
        (org, f"/v1/organizations/{o}/teams/{t}/members",
         "/v1/organizations/{organizationId}/teams/{teamId}/members"),
        (org, f"/v1/teams/{t}", "/v1/teams/{teamId}"),
    ]
    for client, url, template in calls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        check(response, template)
        bad = client.get(url.replace(o, "1").replace(t, "2").replace(p, "3").replace(m, "4"))
        if bad.status_code != 200:
            check(bad, template)


def test_message_endpoints_conform(sandbox, org, client_for):
    now = sandbox_now(sandbox)
    window = {"startTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "endTime": later(sandbox, days=28)}
    listing = org.get("/v1/messages", params=window)
    body = check(listing, "/v1/messages")
    assert body["data"] and body["metadata"]["cursor"]["next"]
    check(org.get("/v1/messages", params={**window, "limit": 500}), "/v1/messages")
    check(org.get("/v1/messages", params={"startTime": "yesterday"}), "/v1/messages")

    created = org.post("/v1/messages", json={
        "text": "spec", "socialProfileIds": [seed.FACEBOOK_PROFILE_ID],
        "scheduledSendTime": later(sandbox, hours=1), "tags": ["a"],
        "location": {"latitude": 1.5, "longitude": 2.5},
        "mediaUrls": [{"url": "http://static.ow.ly/photos/normal/a.jpg"}]})
    message_id = check(created, "/v1/messages")["data"][0]["id"]
    check(org.post("/v1/messages", json={"text": 5}), "/v1/messages")
    check(org.get(f"/v1/messages/{message_id}"), "/v1/messages/{messageId}")
    check(org.get("/v1/messages/404404"), "/v1/messages/{messageId}")
    check(org.get(f"/v1/messages/{message_id}/history"), "/v1/messages/{messageId}/history")

    staff = client_for(seed.STAFF_MEMBER_ID)
    pending = check(staff.post("/v1/messages", json={
        "text": "review me", "socialProfileIds": [seed.FACEBOOK_PROFILE_ID],
        "scheduledSendTime": later(sandbox, hours=2)}), "/v1/messages")["data"][0]
    approve = "/v1/messages/{messageId}/approve"
    check(org.post(f"/v1/messages/{pending['id']}/approve", json={"sequenceNumber": 99}), approve)
    check(org.post(f"/v1/messages/{pending['id']}/approve", json={"sequenceNumber": 1}), approve)
    other = staff.post("/v1/messages", json={
        "text": "reject me", "socialProfileIds": [seed.FACEBOOK_PROFILE_ID],
        "scheduledSendTime": later(sandbox, hours=2)}).json()["data"][0]
    check(org.post(f"/v1/messages/{other['id']}/reject",
                   json={"sequenceNumber": 1, "reason": "no"}), "/v1/messages/{messageId}/reject")

    check(org.delete(f"/v1/messages/{message_id}"), "/v1/messages/{messageId}")
    check(org.delete(f"/v1/messages/{message_id}"), "/v1/messages/{messageId}")
    sent = next(m for m in sandbox.control.state()["messages"] if m["state"] == "SENT")
    check(org.delete(f"/v1/messages/{sent['id']}"), "/v1/messages/{messageId}")


def test_oauth_token_conforms(sandbox):
    url = f"{sandbox.base_url}/oauth2/token"
    good = httpx.post(url, data={"grant_type": "member_app", "member_id": seed.EM_MEMBER_ID},
                      auth=(seed.CLIENT_ID, seed.CLIENT_SECRET))
    check(good, "/oauth2/token")
    for response in (
        httpx.post(url, data={"grant_type": "member_app"}, auth=(seed.CLIENT_ID, "x")),
        httpx.post(url, data={"grant_type": "nope"}, auth=(seed.CLIENT_ID, seed.CLIENT_SECRET)),
        httpx.post(url, data={"grant_type": "member_app"},
                   auth=(seed.CLIENT_ID, seed.CLIENT_SECRET)),
    ):
        assert response.status_code in (400, 401)
        assert set(check(response, "/oauth2/token")) >= {"error", "error_description"}


def test_a_real_client_works_unchanged(sandbox):
    """Exactly what the developer docs say to do, with nothing sandbox-specific but the URL."""
    base = sandbox.base_url
    sandbox.control.register_redirect_uri("https://app.example.org/callback")  # its settings
    params = {"response_type": "code", "client_id": seed.CLIENT_ID, "scope": "offline",
              "redirect_uri": "https://app.example.org/callback", "state": "xyzzy-123456"}
    assert httpx.get(f"{base}/oauth2/auth", params=params).status_code == 200
    signed_in = httpx.post(f"{base}/oauth2/auth",
                           data={**params, "email": seed.EM_EMAIL, "password": "demo"})
    code = parse_qs(urlsplit(signed_in.headers["location"]).query)["code"][0]
    token = httpx.post(f"{base}/oauth2/token", auth=(seed.CLIENT_ID, seed.CLIENT_SECRET), data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": "https://app.example.org/callback"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    me = httpx.get(f"{base}/v1/me", headers=headers).json()["data"]
    teams = httpx.get(f"{base}/v1/organizations/{seed.ORG_ID}/members/{me['id']}/teams",
                      headers=headers).json()["data"]
    assert {"id": seed.EM_TEAM_ID} in teams
    now = sandbox_now(sandbox).strftime("%Y-%m-%dT%H:%M:%S")
    query = (f"?startTime={now}Z".replace(":", "%3A")
             + "&endTime=" + later(sandbox, days=7).replace(":", "%3A")
             + f"&socialProfileIds={seed.FACEBOOK_PROFILE_ID}&state=SCHEDULED&limit=100")
    listing = httpx.get(f"{base}/v1/messages{query}", headers=headers)
    assert listing.status_code == 200
    assert all(m["state"] == "SCHEDULED" for m in listing.json()["data"])
    created = httpx.post(f"{base}/v1/messages", headers={
        **headers, "Content-Type": "application/json;charset=utf-8"},
        content=json.dumps({"text": "hello", "socialProfileIds": [seed.LINKEDIN_PROFILE_ID],
                            "scheduledSendTime": later(sandbox, days=1)}).encode())
    assert created.status_code == 200
    message_id = created.json()["data"][0]["id"]
    deleted = httpx.delete(f"{base}/v1/messages/{message_id}", headers=headers)
    assert deleted.status_code == 200


@pytest.mark.parametrize("path", ["/v1/me", "/v1/messages"])
def test_unauthenticated_errors_conform(sandbox, path):
    response = httpx.get(f"{sandbox.base_url}{path}")
    assert response.status_code == 401
    check(response, path)
