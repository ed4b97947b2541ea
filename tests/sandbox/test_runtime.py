"""Rate limits, faults, the publisher and its clock, and webhook delivery."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from empause.sandbox import seed
from tests.sandbox.conftest import later


class Receiver:
    """A loopback webhook receiver that records bodies; fails the first `fail` posts."""

    def __init__(self, fail: int = 0) -> None:
        self.bodies: list = []
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                else:
                    receiver.bodies.append(json.loads(body))
                    self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 5) -> list:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.bodies

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_rate_limit_and_headers(sandbox, em):
    sandbox.control.faults(rate_limit=5)
    responses = [em.get("/v1/me") for _ in range(8)]
    ok = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    assert ok and limited
    assert limited[0].json()["errors"][0]["code"] == 1043
    assert "retry-after" not in limited[0].headers
    for response in responses:
        assert response.headers["x-account-quota"] == "100000 per day"
        assert int(response.headers["x-account-quota-used"]) >= 1
        assert "x-account-rate-limit-requests-remaining" in response.headers
    time.sleep(1.05)
    assert em.get("/v1/me").status_code == 200


def test_injected_5xx_and_latency_spare_control_api(sandbox, em):
    sandbox.control.faults(routes={"GET /v1/me": {"error_rate": 1.0}})
    failed = em.get("/v1/me")
    assert failed.status_code == 503 and failed.json()["errors"][0]["code"]
    assert failed.json()["errors"][0]["code"] == 5000
    assert sandbox.control.state()["now"]
    sandbox.control.faults(latency_ms=150, routes={})
    started = time.monotonic()
    assert em.get("/v1/me").status_code == 200
    assert time.monotonic() - started >= 0.14


def test_timeout_is_not_applied(sandbox, org):
    target = next(m for m in sandbox.control.state()["messages"] if m["state"] == "SCHEDULED")
    sandbox.control.faults(hang_seconds=0.3,
                           routes={"DELETE /v1/messages/{messageId}": {"timeout_rate": 1.0,
                                                                        "hang_seconds": 0.3}})
    with pytest.raises(httpx.HTTPError):
        org.delete(f"/v1/messages/{target['id']}")
    sandbox.control.faults(routes={})
    assert org.get(f"/v1/messages/{target['id']}").status_code == 200


def test_lost_response_is_applied(sandbox, org):
    target = next(m for m in sandbox.control.state()["messages"] if m["state"] == "SCHEDULED")
    sandbox.control.faults(routes={"DELETE /v1/messages/{messageId}": {"lost_response_rate": 1}})
    with pytest.raises(httpx.HTTPError):
        org.delete(f"/v1/messages/{target['id']}")
    sandbox.control.faults(routes={})
    assert org.get(f"/v1/messages/{target['id']}").status_code == 404


def test_publisher_follows_the_clock(sandbox, client_for):
    sandbox.control.clock(frozen=True)
    first = sandbox.control.clock()["now_precise"]
    time.sleep(0.05)
    assert sandbox.control.clock()["now_precise"] == first
    created = sandbox.control.create_message(
        sandbox.control.token(seed.EM_MEMBER_ID), text="goes out",
        socialProfileIds=[seed.FACEBOOK_PROFILE_ID], scheduledSendTime=later(sandbox, hours=1))
    assert created["state"] == "SCHEDULED"
    sandbox.control.clock(advance_seconds=3601)
    em = client_for(seed.EM_MEMBER_ID)  # the old token expired with the hour that passed
    message = em.get(f"/v1/messages/{created['id']}").json()["data"]
    assert message["state"] == "SENT" and message["postId"] and message["postUrl"]
    entry = next(p for p in sandbox.control.state()["published"] if p["message_id"] == created["id"])
    assert entry["createdByMember"] == seed.EM_MEMBER_ID
    assert entry["text"] == "goes out" and entry["social_profile_id"] == seed.FACEBOOK_PROFILE_ID
    assert em.delete(f"/v1/messages/{created['id']}").json()["errors"][0]["code"] == 40003


def test_late_approval_publishes_on_next_tick(sandbox, client_for, org):
    staff = client_for(seed.STAFF_MEMBER_ID)
    pending = staff.post("/v1/messages", json={
        "text": "late", "socialProfileIds": [seed.INSTAGRAM_PROFILE_ID],
        "scheduledSendTime": later(sandbox, minutes=5)}).json()["data"][0]
    sandbox.control.clock(advance_seconds=600)
    assert org.get(f"/v1/messages/{pending['id']}").json()["data"]["state"] == "PENDING_APPROVAL"
    approved = org.post(f"/v1/messages/{pending['id']}/approve", json={"sequenceNumber": 1})
    assert approved.status_code == 200, approved.text
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if org.get(f"/v1/messages/{pending['id']}").json()["data"]["state"] == "SENT":
            break
        time.sleep(0.05)
    assert org.get(f"/v1/messages/{pending['id']}").json()["data"]["state"] == "SENT"


def test_webhooks_ping_seq_no_and_message_urls(sandbox, org, receiver):
    own = Receiver()
    try:
        sandbox.control.register_webhook(receiver.url)
        assert receiver.wait(1)[0] == [{"type": "com.hootsuite.ping.event.v1", "data": {}}]
        created = org.post("/v1/messages", json={
            "text": "hooked", "socialProfileIds": [seed.FACEBOOK_PROFILE_ID],
            "scheduledSendTime": later(sandbox, hours=1), "webhookUrls": [own.url]}).json()
        message_id = created["data"][0]["id"]
        org.delete(f"/v1/messages/{message_id}")
        events = [b[0] for b in receiver.wait(3)[1:]]
        assert [e["seq_no"] for e in events] == ["1", "2"]
        assert [e["data"]["state"] for e in events] == ["SCHEDULED", "DELETED"]
        assert events[0]["type"] == "com.hootsuite.messages.event.v1"
        assert events[0]["data"]["organization"] == {"id": seed.ORG_ID}
        assert events[0]["data"]["message"] == {"id": message_id}
        assert events[0]["data"]["timestamp"].endswith("Z")
        own_events = [b[0] for b in own.wait(2)]
        assert [e["seq_no"] for e in own_events] == ["1", "2"]
    finally:
        own.close()


def test_webhook_retries(sandbox, org):
    flaky = Receiver(fail=2)
    try:
        sandbox.control.register_webhook(flaky.url)
        bodies = flaky.wait(1)
        assert bodies[0][0]["type"] == "com.hootsuite.ping.event.v1"
        deadline = time.monotonic() + 3  # the sandbox counts the delivery once the post returns
        while True:
            counts = sandbox.control.state()["webhooks"]["receivers"][flaky.url]
            if counts["delivered"] or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert counts["attempts"] == 3 and counts["delivered"] == 1 and counts["failed"] == 0
    finally:
        flaky.close()
