"""Auth, the directory (GET /, /teams, /users, /channels/summary), listing posts with its
filters and offset pagination, error shapes, and 'bad input is a 4xx, never a 500'."""

from __future__ import annotations

from datetime import timedelta

import httpx

from empause.domain.timeutil import parse_time
from empause.sandbox.socialhub import seed

from .conftest import error, ms


def test_auth_is_the_accesstoken_query_parameter(socialhub, control):
    base = socialhub.base_url
    error(httpx.get(f"{base}/"), 401, "AccessTokenInvalid")
    error(httpx.get(f"{base}/", params={"accesstoken": "nope"}), 401, "AccessTokenInvalid")
    bearer = httpx.get(f"{base}/", headers={"Authorization": f"Bearer {seed.ACCOUNT_TOKEN}"})
    error(bearer, 401, "AccessTokenInvalid")  # only ?accesstoken= counts
    me = httpx.get(f"{base}/", params={"accesstoken": seed.ACCOUNT_TOKEN}).json()
    assert me["accountId"] == seed.ACCOUNT_ID and me["userId"] == seed.ADMIN_USER_ID
    assert me["role"] == "ADMIN" and "PublishPosts" in me["permissions"]
    assert set(me["channelIds"]) == set(seed.CHANNEL_IDS)
    # Upstream's basePath works too: only the base URL differs from the real service.
    assert httpx.get(f"{base}/api2/", params={"accesstoken": seed.ACCOUNT_TOKEN}).json() == me
    listed = httpx.get(f"{base}/api2/cp/posts", params={"accesstoken": seed.ACCOUNT_TOKEN})
    assert listed.status_code == 200 and listed.json()["count"] > 300


def test_the_directory(admin, em, staff):
    assert em("GET", "/").json()["role"] == "SMM"
    mine = staff("GET", "/").json()
    assert "PublishPosts" not in mine["permissions"] and "EditPosts" in mine["permissions"]
    assert set(mine["channelIds"]) == set(seed.STAFF_CHANNEL_IDS)
    teams = {t["_id"]: t for t in em("GET", "/teams").json()}
    assert set(teams) == {seed.EM_TEAM_ID, seed.STAFF_TEAM_ID}
    emergency = teams[seed.EM_TEAM_ID]
    assert emergency["name"] == "Emergency Management" and seed.EM_USER_ID in emergency["users"]
    assert set(emergency) >= {"_id", "accountId", "name", "users", "channels", "admins"}
    assert seed.STAFF_USER_ID in teams[seed.STAFF_TEAM_ID]["users"]
    assert seed.STAFF_USER_ID not in emergency["users"]
    everyone = {u["email"] for u in admin("GET", "/users").json()}
    assert everyone == {seed.ADMIN_EMAIL, seed.EM_EMAIL, seed.STAFF_EMAIL}
    assert {u["email"] for u in staff("GET", "/users").json()} == {seed.STAFF_EMAIL}
    channels = admin("GET", "/channels/summary").json()
    assert {c["_id"] for c in channels} == set(seed.CHANNEL_IDS)
    assert {c["socialNetwork"] for c in channels} >= {"FACEBOOK", "TWITTER"}


def test_unknown_routes_and_methods(admin):
    error(admin("GET", "/cp/nothing"), 404, "NotFound")
    error(admin("PUT", "/cp/posts"), 405, "MethodNotAllowed")


def _all_pages(member, **params):
    seen, offset, total = [], 0, None
    while True:
        body = member("GET", "/cp/posts", params={**params, "offset": offset, "count": 40}).json()
        total = body["count"] if total is None else total
        assert body["count"] == total
        seen += body["data"]
        offset += 40
        if offset >= total:
            return seen, total


def test_listing_filters_sorts_and_pages(admin, control):
    scheduled, total = _all_pages(admin, **{"status[]": "scheduled", "sortBy": "publishTime",
                                            "order": "asc"})  # fmt: skip
    assert total == 300 and len({p["_id"] for p in scheduled}) == 300
    times = [parse_time(p["publishTime"]) for p in scheduled]
    assert times == sorted(times) and {p["status"] for p in scheduled} == {"scheduled"}
    assert times[-1] - times[0] > timedelta(days=21)  # spread over the coming weeks
    # The array forms all mean the same; POST /cp/posts takes the query as a body.
    forms = [{"status": "scheduled,needsApproval"},
             {"status[]": ["scheduled", "needsApproval"]},
             {"status[0]": "scheduled", "status[1]": "needsApproval"}]  # fmt: skip
    counts = {admin("GET", "/cp/posts", params=f).json()["count"] for f in forms}
    body = admin("POST", "/cp/posts", json={"status": ["scheduled", "needsApproval"]}).json()
    assert counts == {body["count"]} and body["count"] > 300
    # since / until (inclusive) on the sortBy field; channel filter.
    start, end = times[10], times[20]
    window = admin("GET", "/cp/posts", params={
        "status[]": "scheduled", "sortBy": "publishTime", "order": "asc", "count": 100,
        "since": ms(start), "until": ms(end), "channelIds[]": seed.FACEBOOK_CHANNEL_ID,
    }).json()  # fmt: skip
    expected = [p["_id"] for p in scheduled
                if start <= parse_time(p["publishTime"]) <= end
                and p["channel"]["id"] == seed.FACEBOOK_CHANNEL_ID]  # fmt: skip
    assert [p["_id"] for p in window["data"]] == expected and window["count"] == len(expected)
    # Default: newest created first, 25 a page.
    default = admin("GET", "/cp/posts").json()
    assert len(default["data"]) == 25 and default["count"] == len(control.state()["posts"])


def test_listing_parameters_are_validated(admin):
    for params in ({"count": 0}, {"count": 101}, {"count": "ten"}, {"offset": -1},
                   {"status": "bogus"}, {"sortBy": "text"}, {"order": "up"},
                   {"since": "yesterday"}, {"postGroupId": "x"}, {"needsAttention": "maybe"}):
        error(admin("GET", "/cp/posts", params=params), 400, "BadRequest")
    error(admin("POST", "/cp/posts", json={"count": True}), 400, "BadRequest")
    error(admin("POST", "/cp/posts", json={"status": [1]}), 400, "BadRequest")


def test_bad_input_is_never_a_500(admin, em, control):
    pid = em.post("target")["_id"]
    payloads = [b"", b"null", b"[]", b"{", b"\xff\xfe", b'{"content": []}', b'{"content": {"text": 5}}',
                b'{"publishTime": 5}', b'{"channelIds": "x"}', b'{"channelIds": [true]}',
                b'{"tags": "x"}', b'{"assignee": 7}', b'{"message": 5}', b'{"content": {"type": "X"}}']
    routes = [("PATCH", f"/cp/posts/{pid}"), ("POST", "/cp/postGroups"),
              ("POST", f"/cp/posts/{pid}/reject"), ("POST", "/cp/posts"),
              ("POST", f"/cp/posts/{pid}/approve"), ("POST", f"/cp/posts/{pid}/schedule")]
    for method, path in routes:
        for payload in payloads:
            response = admin(method, path, content=payload)
            assert response.status_code < 500, (method, path, payload, response.text)
            body = response.json() if response.content else {}
            assert response.status_code < 400 or set(body) >= {"code", "message"}
    for path in ("/_sandbox/reset", "/_sandbox/clock", "/_sandbox/faults"):
        for payload in (b"{", b"[]", b'{"posts": "x"}', b'{"now": "x"}', b'{"error_rate": 7}'):
            assert control._http.post(path, content=payload).status_code < 500
