"""The /_sandbox/ control API (state, demo credentials, reset, clock, users), faults and the
rate limit, and the sandbox run without a seed (control API off)."""

from __future__ import annotations

import time

import httpx
import pytest

from empause.sandbox.socialhub import seed
from empause.sandbox.socialhub.server import SocialHubSandboxServer

from .conftest import Member, error


def test_state_lists_every_post_and_the_demo(control):
    state = control.state()
    assert set(state) >= {"now", "posts", "published", "demo", "calls", "faults", "rate_limit"}
    posts = state["posts"]
    statuses = {p["status"] for p in posts}
    assert {"scheduled", "needsApproval", "draft", "published"} <= statuses
    assert sum(p["status"] == "scheduled" for p in posts) == 300
    for post in posts:
        assert {"_id", "status", "publishTime", "channel", "author", "content"} <= set(post)
    assert {p["author"] for p in posts if p["status"] == "needsApproval"} == {seed.STAFF_USER_ID}
    assert any(p["content"].get("images") for p in posts)
    demo = state["demo"]
    assert demo["access_token"] == seed.ACCOUNT_TOKEN
    assert demo["emergency_team_id"] == seed.EM_TEAM_ID
    members = {m["email"]: m for m in demo["members"]}
    assert {seed.EM_EMAIL, seed.STAFF_EMAIL} <= set(members)
    assert members[seed.EM_EMAIL]["emergency"] and not members[seed.STAFF_EMAIL]["emergency"]
    for email, member in members.items():  # each member can act with a token of their own
        me = Member(control, member["access_token"])("GET", "/").json()
        assert me["userId"] == member["user_id"], email


def test_reset_is_deterministic(control):
    first = [(p["_id"], p["content"]["text"], p["channel"]["id"]) for p in control.state()["posts"]]
    assert control.reset(posts=300, rng=7)["posts"] == len(first)
    again = [(p["_id"], p["content"]["text"], p["channel"]["id"]) for p in control.state()["posts"]]
    assert again == first
    control.reset(posts=300, rng=8)
    other = [(p["_id"], p["content"]["text"], p["channel"]["id"]) for p in control.state()["posts"]]
    assert other != first
    assert control.reset(posts=10)["posts"] == 10 + 3 * 2  # plus approval, draft, published
    with pytest.raises(Exception, match="400"):
        control.reset(seed="nope")


def test_clock_set_advance_and_freeze(control, socialhub):
    result = control.clock(now="2031-01-01T00:00:00Z", frozen=True)
    assert result["now"] == "2031-01-01T00:00:00Z" and result["frozen"] is True
    read = httpx.get(f"{socialhub.base_url}/_sandbox/clock").json()
    assert read["now"] == "2031-01-01T00:00:00Z" and "published" not in read
    assert control.clock(advance_seconds=90)["now"] == "2031-01-01T00:01:30Z"
    assert control.clock(frozen=False)["frozen"] is False
    assert len(control.state()["published"]) == 300  # everything was due before 2031


def test_faults_errors_latency_and_lost_responses(control, admin, em):
    control.faults(error_rate=1.0)
    error(admin("GET", "/"), 503, "ServiceUnavailable")
    assert control.state()["faults"]["error_rate"] == 1.0  # the control API is never faulted
    control.faults(error_rate=0, latency_ms=200)
    started = time.monotonic()
    assert admin("GET", "/").status_code == 200
    assert time.monotonic() - started >= 0.2
    post = em.post("lost answer")
    control.faults(latency_ms=0, routes={"POST /cp/posts/{id}/unschedule": {"lost_response_rate": 1}})
    with pytest.raises(httpx.HTTPError):
        admin("POST", f"/cp/posts/{post['_id']}/unschedule")
    applied = {p["_id"]: p for p in control.state()["posts"]}[post["_id"]]
    assert applied["status"] == "draft"  # applied, though the answer never arrived
    control.reset()
    assert control.state()["faults"]["routes"] == {}


def test_rate_limit_per_user(control, admin, em):
    control.faults(rate_limit=5)
    codes = [admin("GET", "/").status_code for _ in range(12)]
    assert 429 in codes and codes.count(200) <= 10
    limited = admin("GET", "/")
    if limited.status_code == 429:
        error(limited, 429, "TooManyRequests")
    assert em("GET", "/").status_code == 200  # another user's budget
    time.sleep(1.1)
    assert admin("GET", "/").status_code == 200


def test_team_membership_can_change(control, staff):
    control.set_teams(seed.STAFF_USER_ID, [seed.EM_TEAM_ID])
    teams = {t["_id"]: t for t in staff("GET", "/teams").json()}
    assert seed.STAFF_USER_ID in teams[seed.EM_TEAM_ID]["users"]
    assert seed.STAFF_USER_ID not in teams[seed.STAFF_TEAM_ID]["users"]


def test_without_a_seed_the_control_api_is_off():
    with SocialHubSandboxServer(seed=None, posts=5, control=False) as server:
        assert httpx.get(f"{server.base_url}/_sandbox/state").status_code == 404
        me = httpx.get(f"{server.base_url}/", params={"accesstoken": seed.ACCOUNT_TOKEN})
        assert me.status_code == 200
