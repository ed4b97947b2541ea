"""Input an attacker or a broken client sends: never a 5xx, never an unbounded read.

Huge and non-finite numbers, ids past what the database holds, deep nesting, invalid UTF-8,
wrong content types, oversized bodies (declared or streamed), formula injection in exports.
"""

from __future__ import annotations

import csv
import io
import socket

import httpx
import pytest

from empause.sandbox import seed
from empause.store.models import AuditEvent
from empause.web.bodylimit import BODY_LIMIT
from tests.fixtures.app import WEBHOOK_SECRET
from tests.web.helpers import create_api_key, csrf, signed_in

HUGE_INT = int("9" * 400)


@pytest.fixture
def api(app_server):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    key = create_api_key(em)
    with httpx.Client(
        base_url=app_server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        yield client


@pytest.mark.parametrize(
    "body",
    [
        '{"reason": "r", "horizon": 1e300}',
        '{"reason": "r", "horizon": Infinity}',
        '{"reason": "r", "horizon": -Infinity}',
        '{"reason": "r", "horizon": NaN}',
        '{"reason": "r", "shift": ' + str(HUGE_INT) + "}",
        '{"reason": "r", "horizon": "' + "9" * 400 + 'd"}',
        '{"reason": ' + str(HUGE_INT) + "}",
        '{"reason": "r", "strategy": {"a": [1, 2]}}',
        '{"reason": "' + "x" * 5000 + '"}',
    ],
)
def test_numbers_and_values_out_of_range_are_refused(api, body):
    answer = api.post("/api/pause", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"], answer.text
    assert api.get("/api/status").json()["paused"] is False


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("[" * 100_000 + "]" * 100_000, "application/json"),
        (b'{"reason": "\xff\xfe broken"}', "application/json"),
        ("reason=x", "application/x-www-form-urlencoded"),
        ("reason: x", "text/plain"),
        ("", "application/json"),
    ],
)
def test_malformed_bodies_are_refused(api, body, content_type):
    answer = api.post("/api/pause", content=body, headers={"Content-Type": content_type})
    assert 400 <= answer.status_code < 500, answer.text
    assert api.get("/api/status").json()["paused"] is False


def test_bodies_over_the_limit_are_refused_before_they_are_read(api, app_server):
    big = b"x" * (BODY_LIMIT + 1)
    declared = api.post("/api/pause", content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(BODY_LIMIT // 65536 + 2):
            yield b" " * 65536

    streamed = api.post("/api/pause", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    form = em.post("/pause", data={"csrf_token": csrf(em), "reason": "x" * (BODY_LIMIT + 1)})
    assert form.status_code == 413
    host, port = httpx.URL(app_server.base_url).host, httpx.URL(app_server.base_url).port
    with socket.create_connection((host, port), timeout=10) as raw:
        raw.sendall(b"POST /api/pause HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n{}")
        status_line = raw.recv(200).split(b"\r\n")[0]
    assert status_line.split()[1].startswith(b"4"), status_line


def test_deeply_nested_webhooks_are_refused(app_server):
    url = f"{app_server.base_url}/webhooks/hootsuite/{WEBHOOK_SECRET}"
    answer = httpx.post(url, content="[" * 200_000, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert "nested" in answer.text


def test_ids_past_what_the_database_holds_are_refused(app_server):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    token = csrf(em, "/keys")
    for key_id in (str(HUGE_INT), str(2**63), str(2**31), "-1", "0", "1e3"):
        answer = em.post(f"/keys/{key_id}/revoke", data={"csrf_token": token})
        assert 400 <= answer.status_code < 500, (key_id, answer.status_code)


async def test_csv_export_defuses_formulas(app_server, db):
    dangerous = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "plain"]
    async with db.sessions() as session:
        for actor in dangerous:
            session.add(AuditEvent(organization_id=seed.ORG_ID, actor=actor, action=actor))
        await session.commit()
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    answer = em.get("/audit.csv")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.text)))[1:]
    cells = [cell for row in rows for cell in row[1:3]]
    assert cells, "the export is empty"
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "plain" in cells and "'=1+1" in cells
