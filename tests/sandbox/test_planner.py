"""The sandbox's human view over real HTTP: the planner page, its JSON and the compose form."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import httpx
import pytest

from empause.domain.timeutil import parse_time
from empause.sandbox import seed
from empause.sandbox.compose import TEXT_MAX, WHEN_MAX
from empause.sandbox.planner import LOOKBACK, PLANNER_CAP, PLANNER_DAYS
from empause.sandbox.server import SandboxServer
from tests.sandbox.conftest import later, sandbox_now
from tests.sandbox.test_runtime import Receiver

STAFF_POST = {
    "member": seed.STAFF_MEMBER_ID,
    "profile": seed.FACEBOOK_PROFILE_ID,
    "text": "Staff post from the planner",
    "when": "2",
}


@pytest.fixture
def web(sandbox: SandboxServer):
    with httpx.Client(base_url=sandbox.base_url, timeout=15) as client:
        yield client


def planner(web: httpx.Client, **params: str) -> dict:
    answer = web.get("/_sandbox/planner.json", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def entries(view: dict) -> list[dict]:
    return [m for day in view["days"] for group in day["profiles"] for m in group["messages"]]


def test_page_is_served_under_a_strict_policy_with_its_own_files(sandbox, web):
    page = web.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    html = page.text
    # Nothing inline: every script has a src, no <style> element, no style attribute.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert "<style" not in html and " style=" not in html
    for asset in re.findall(r'(?:src|href)="(/_sandbox/static/[^"]+)"', html):
        assert web.get(asset).status_code == 200, asset
    assert web.get("/_sandbox/static/..%2Fseed.py").status_code == 404
    assert web.get("/_sandbox/static/nope.js").status_code == 404
    assert "Planner: Sandbox County" in html and 'id="compose"' in html


def test_planner_groups_the_window_by_day_and_profile(sandbox, web):
    view = planner(web)
    now = parse_time(view["now"])
    assert view["organization"] == {"id": seed.ORG_ID, "name": seed.ORG_NAME}
    state = sandbox.control.state()
    start, end = now - LOOKBACK, now + timedelta(days=PLANNER_DAYS)
    expected = {
        m["id"]
        for m in state["messages"]
        if not m["deleted"] and start <= parse_time(m["scheduledSendTime"]) < end
    }
    shown = entries(view)
    assert {m["id"] for m in shown} == expected and len(shown) == view["shown"]
    days = [d["date"] for d in view["days"]]
    assert days == sorted(days) and len(days) == len(set(days))
    for day in view["days"]:
        labels = [g["label"] for g in day["profiles"]]
        assert len(labels) == len(set(labels))  # one group per profile and day
        assert day["count"] == sum(len(g["messages"]) for g in day["profiles"])
        for group in day["profiles"]:
            mine = [m["scheduledSendTime"] for m in group["messages"]]
            assert mine == sorted(mine) and all(t.startswith(day["date"]) for t in mine)
    by_id = {m["id"]: m for m in state["messages"]}
    names = {seed.STAFF_MEMBER_ID: "Sam Staff", seed.EM_MEMBER_ID: "Emery Manager",
             seed.ADMIN_MEMBER_ID: "Avery Admin"}  # fmt: skip
    pending = [m for m in shown if m["pending"]]
    assert pending and all(m["state"] == "PENDING_APPROVAL" for m in pending)
    for m in shown:
        assert m["author"] == names[by_id[m["id"]]["createdByMember"]["id"]]
        assert m["state"] == by_id[m["id"]]["state"]
    counts = view["counts"]
    assert counts["PENDING_APPROVAL"] == len(pending)
    assert f"{counts['SCHEDULED']} scheduled" in view["summary"]


def test_compose_as_staff_waits_for_approval_and_fires_the_webhook(sandbox, web):
    receiver = Receiver()
    try:
        sandbox.control.register_webhook(receiver.url)
        receiver.wait(1)  # the ping
        before = sandbox_now(sandbox)
        answer = web.post("/_sandbox/compose", data=STAFF_POST, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        created_id = re.search(r"created=(\d+)", answer.headers["location"]).group(1)
        events = receiver.wait(2)[1:]
    finally:
        receiver.close()
    message = next(m for m in sandbox.control.state()["messages"] if m["id"] == created_id)
    assert message["state"] == "PENDING_APPROVAL" and message["sequenceNumber"] == 1
    assert message["createdByMember"] == {"id": seed.STAFF_MEMBER_ID}
    assert message["socialProfile"] == {"id": seed.FACEBOOK_PROFILE_ID}
    assert message["text"] == STAFF_POST["text"]
    assert message["history"][0]["actionType"] == "CREATE"
    due = parse_time(message["scheduledSendTime"])
    assert timedelta(minutes=1) < due - before <= timedelta(minutes=2, seconds=5)
    assert [e[0]["data"]["message"]["id"] for e in events] == [created_id]
    assert events[0][0]["data"]["state"] == "PENDING_APPROVAL"
    # The redirect's page says so, and the planner shows it marked as pending.
    page = web.get(answer.headers["location"])
    assert "Posted as Sam Staff" in page.text and "pending approval" in page.text
    shown = {m["id"]: m for m in entries(planner(web))}
    assert shown[created_id]["pending"] and shown[created_id]["author"] == "Sam Staff"


def test_compose_as_the_emergency_member_is_scheduled_at_an_exact_time(sandbox, web):
    at = later(sandbox, hours=3)[:16]  # as a datetime-local input sends it: 2031-01-01T09:30
    form = {**STAFF_POST, "member": seed.EM_MEMBER_ID, "profile": seed.LINKEDIN_PROFILE_ID,
            "at": at}  # fmt: skip
    answer = web.post("/_sandbox/compose", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    created_id = re.search(r"created=(\d+)", answer.headers["location"]).group(1)
    token = sandbox.control.token(seed.EM_MEMBER_ID)
    got = web.get(f"/v1/messages/{created_id}", headers={"Authorization": f"Bearer {token}"})
    data = got.json()["data"]
    assert data["state"] == "SCHEDULED" and data["scheduledSendTime"] == at + ":00Z"
    assert data["createdByMember"]["id"] == seed.EM_MEMBER_ID


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"member": ""}, 400, "Choose a member"),
        ({"member": "19999999"}, 400, "Choose a member"),
        ({"profile": "nope"}, 400, "social profiles"),
        ({"profile": seed.LINKEDIN_PROFILE_ID}, 403, "not on any of their teams"),
        ({"text": "   "}, 400, "Write the message"),
        ({"text": "x" * (TEXT_MAX + 1)}, 400, f"at most {TEXT_MAX}"),
        ({"when": "soon"}, 400, "whole number of minutes"),
        ({"when": "0"}, 400, "whole number of minutes"),
        ({"when": str(WHEN_MAX + 1)}, 400, "whole number of minutes"),
        ({"when": "9" * 500}, 400, "too long"),
        ({"at": "yesterday"}, 400, "must look like"),
        ({"at": "2001-01-01T00:00"}, 400, "must be after now"),
    ],
)
def test_compose_refuses_bad_input_with_a_sentence(sandbox, web, change, status, words):
    count = len(sandbox.control.state()["messages"])
    answer = web.post("/_sandbox/compose", data={**STAFF_POST, **change})
    assert answer.status_code == status, answer.text
    problem = re.search(r'id="problem">(.*?)</div>', answer.text, re.S)
    assert problem and words in problem.group(1)
    assert 'id="compose"' in answer.text  # the form again, to correct
    assert len(sandbox.control.state()["messages"]) == count


def test_compose_never_answers_5xx_and_refuses_other_sites(sandbox, web):
    bodies = [b"", b"\xff\xfe", b"member=&&&=", b"member=%ff%fe&text=%00", b"a" * 100_000,
              b'{"member": "19000003"}']  # fmt: skip
    for body in bodies:
        answer = web.post("/_sandbox/compose", content=body,
                          headers={"content-type": "application/x-www-form-urlencoded"})
        assert 400 <= answer.status_code < 500, (body[:40], answer.status_code)
    forged = web.post("/_sandbox/compose", data=STAFF_POST,
                      headers={"origin": "http://attacker.example"})  # fmt: skip
    assert forged.status_code == 403
    same = web.post("/_sandbox/compose", data=STAFF_POST, follow_redirects=False,
                    headers={"origin": sandbox.base_url})  # fmt: skip
    assert same.status_code == 303
    assert web.get("/_sandbox/planner.json", params={"organization": "x" * 500}).status_code == 400
    assert web.get("/", params={"organization": "1"}).status_code == 400


def test_rest_contract_is_unchanged_by_the_view(sandbox, web):
    """POST /v1/messages still answers as before (the view shares its code)."""
    token = sandbox.control.token(seed.STAFF_MEMBER_ID)
    answer = web.post("/v1/messages", headers={"Authorization": f"Bearer {token}"}, json={
        "text": "via REST", "socialProfileIds": [seed.FACEBOOK_PROFILE_ID],
        "scheduledSendTime": later(sandbox, hours=1)})  # fmt: skip
    body = answer.json()
    assert answer.status_code == 200 and len(body["data"]) == 1
    assert body["metadata"] == {"cursor": {"next": None, "previous": None}}
    assert body["data"][0]["state"] == "PENDING_APPROVAL"
    assert web.post("/").status_code == 405


def test_the_view_is_off_without_a_seed():
    with SandboxServer(control=False) as bare, httpx.Client(base_url=bare.base_url) as client:
        for path in ("/", "/_sandbox/planner.json", "/_sandbox/static/planner.js"):
            answer = client.get(path)
            assert answer.status_code == 404 and answer.json()["errors"], path
        assert client.post("/_sandbox/compose", data=STAFF_POST).status_code == 404


def test_planner_stays_cheap_with_100k_messages(sandbox, web):
    sandbox.control.reset(seed="demo", messages=100_000, rng=7)
    try:
        web.get("/_sandbox/planner.json")  # warm
        started = time.perf_counter()
        view = planner(web)
        json_seconds = time.perf_counter() - started
        started = time.perf_counter()
        page = web.get("/")
        page_seconds = time.perf_counter() - started
    finally:
        sandbox.control.reset(seed="demo", messages=300, rng=7)
    assert view["shown"] == PLANNER_CAP and view["truncated"]
    assert "only the first" in view["summary"]
    assert page.status_code == 200 and len(page.content) < 1_000_000
    assert json_seconds < 1.0 and page_seconds < 1.5, (json_seconds, page_seconds)


def test_each_organization_has_its_planner_and_members(sandbox, web):
    sandbox.control.reset(seed="demo", messages=50, rng=7, organizations=2)
    second = seed.seed_organization(1)
    page = web.get("/", params={"organization": second.id})
    assert page.status_code == 200 and f"Planner: {second.name}" in page.text
    view = planner(web, organization=second.id)
    assert view["organization"]["id"] == second.id
    state = {m["id"]: m for m in sandbox.control.state()["messages"]}
    assert entries(view) and all(state[m["id"]]["organizationId"] == second.id
                                 for m in entries(view))  # fmt: skip
    form = {**STAFF_POST, "member": second.staff[0], "profile": second.profiles[1][0]}
    answer = web.post("/_sandbox/compose", data=form, follow_redirects=False)
    assert answer.status_code == 303 and f"organization={second.id}" in answer.headers["location"]
    # A member cannot post to another organization's profile.
    crossed = web.post("/_sandbox/compose", data={**form, "profile": seed.FACEBOOK_PROFILE_ID})
    assert crossed.status_code == 400 and "organization's social profiles" in crossed.text
