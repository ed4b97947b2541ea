"""The receiver: fast acknowledgement into the inbox, and bad input refused without harm."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy import func, select

from empause.prescreen import inbox
from empause.prescreen.events import MAX_BODY_BYTES, MESSAGES, PING
from empause.sandbox.seed import ORG_ID
from empause.store.db import Database
from empause.store.models import AuditEvent, InboxEvent, Prescreening
from tests.prescreen.harness import ReceiverServer, eventually, inbox_settled


def event(message_id: str, state: str = "PENDING_APPROVAL", seq_no: str = "1",
          org: str | None = ORG_ID) -> dict:  # fmt: skip
    return {
        "seq_no": seq_no,
        "type": MESSAGES,
        "data": {
            "state": state,
            "organization": {"id": org},
            "message": {"id": message_id},
            "timestamp": "2026-01-01T00:00:00.000Z",
        },
    }


@pytest.fixture
def receiver(start_receiver: Callable[..., ReceiverServer]) -> ReceiverServer:
    return start_receiver(register=False)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_ping_is_acknowledged(
    receiver: ReceiverServer, client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post(receiver.webhook_url, json={"type": PING, "data": {}})
    assert response.status_code == 200
    response = await client.post(receiver.webhook_url, json=[{"type": PING, "data": {}}])
    assert response.status_code == 200
    assert response.json() == {"received": 0, "pings": 1}
    assert await count(db, InboxEvent) == 0


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b"", 400),
        (json.dumps({"type": MESSAGES, "data": {"state": 1}}).encode(), 422),
        (json.dumps([{"type": MESSAGES, "data": {"message": {"id": []}}}]).encode(), 422),
        (json.dumps({"no": "type"}).encode(), 422),
        (b"[" + b"0," * (MAX_BODY_BYTES // 2) + b"0]", 413),
    ],
)
async def test_bad_bodies_are_refused_and_nothing_is_stored(
    receiver: ReceiverServer, client: httpx.AsyncClient, db: Database,
    content: bytes, status: int,
) -> None:  # fmt: skip
    response = await client.post(
        receiver.webhook_url, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert await count(db, InboxEvent) == 0


async def test_oversized_chunked_body_without_length_is_refused(
    receiver: ReceiverServer, client: httpx.AsyncClient, db: Database
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65536

    response = await client.post(receiver.webhook_url, content=chunks())
    assert response.status_code == 413
    assert await count(db, InboxEvent) == 0


async def test_wrong_secret_is_not_found_and_stores_nothing(
    receiver: ReceiverServer, client: httpx.AsyncClient, db: Database
) -> None:
    for secret in ("wrong", receiver.settings.webhook_secret[:-1], "x" * 500):
        response = await client.post(
            f"{receiver.base_url}/webhooks/hootsuite/{secret}", json=[event("4100000001")]
        )
        assert response.status_code == 404
    assert await count(db, InboxEvent) == 0


async def test_receiver_survives_bad_input_and_still_works(
    receiver: ReceiverServer, client: httpx.AsyncClient, db: Database
) -> None:
    for content in (b"\x00\xff", b"[[[[", b"null", b'{"type": null}'):
        response = await client.post(receiver.webhook_url, content=content)
        assert 400 <= response.status_code < 500
    response = await client.post(receiver.webhook_url, json=[event("999999999")])
    assert response.status_code == 200
    assert await eventually(lambda: inbox_settled(db)) == {inbox.DONE: 1}


async def test_duplicates_are_stored_once(
    receiver: ReceiverServer, client: httpx.AsyncClient, db: Database
) -> None:
    body = [event("999999998", seq_no="5"), event("999999998", seq_no="5")]
    assert (await client.post(receiver.webhook_url, json=body)).status_code == 200
    assert (await client.post(receiver.webhook_url, json=body[0])).status_code == 200
    assert (
        await client.post(receiver.webhook_url, json=event("999999998", seq_no="6"))
    ).status_code == 200
    assert await count(db, InboxEvent) == 2


async def test_unprotected_unknown_and_forged_events_decide_nothing(
    receiver: ReceiverServer, client: httpx.AsyncClient, db: Database, hootsuite
) -> None:
    messages = hootsuite.control.state()["messages"]
    scheduled = next(m["id"] for m in messages if m["state"] == "SCHEDULED" and not m["deleted"])
    events = [
        event("4100000001", org="999999"),  # an organization we do not protect
        event("4100000002", org=None),  # not owned by an organization
        event("123456789012"),  # a message that does not exist
        event(scheduled, "PENDING_APPROVAL", seq_no="77"),  # forged: it is not pending
    ]
    assert (await client.post(receiver.webhook_url, json=events)).status_code == 200
    counts = await eventually(lambda: inbox_settled(db))
    assert counts == {inbox.DONE: len(events)}
    assert await count(db, Prescreening) == 0
    assert await count(db, AuditEvent) == 0
