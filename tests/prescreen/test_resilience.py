"""No event lost: rows written before a crash are decided at start; upstream failures are
retried from the inbox; a lost approval response is settled by re-reading the message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from empause.prescreen import inbox
from empause.prescreen.events import MESSAGES, MessageEvent
from empause.sandbox.seed import ORG_ID
from empause.store.db import Database
from tests.prescreen.harness import ReceiverServer, eventually, inbox_settled, set_paused
from tests.prescreen.scenario import decided, sandbox_message, write_message


def pending_event(message_id: str, seq_no: str = "1") -> MessageEvent:
    payload = {
        "seq_no": seq_no,
        "type": MESSAGES,
        "data": {"state": "PENDING_APPROVAL", "organization": {"id": ORG_ID},
                 "message": {"id": message_id}},
    }  # fmt: skip
    return MessageEvent(ORG_ID, message_id, "PENDING_APPROVAL", seq_no, payload)


async def test_events_acknowledged_before_a_crash_are_decided_at_start(
    start_receiver: Callable[..., ReceiverServer], hootsuite: Any, db: Database
) -> None:
    """The previous process stored the events and died before deciding: nothing is lost."""
    await set_paused(db, True)
    first = write_message(hootsuite.control, text="one")
    second = write_message(hootsuite.control, text="two")
    await inbox.record(db, [pending_event(first["id"]), pending_event(second["id"])], {ORG_ID})
    assert (await inbox.counts(db)) == {inbox.PENDING: 2}

    start_receiver(register=False)  # the restarted process
    await eventually(lambda: decided(db, first["id"], "held"))
    await eventually(lambda: decided(db, second["id"], "held"))
    assert await eventually(lambda: inbox_settled(db)) == {inbox.DONE: 2}


async def test_upstream_errors_are_retried_until_decided(
    start_receiver: Callable[..., ReceiverServer], hootsuite: Any, db: Database
) -> None:
    hootsuite.control.faults(
        routes={
            "GET /v1/messages/{messageId}": {"error_rate": 0.5},
            "POST /v1/messages/{messageId}/approve": {"error_rate": 0.5},
        }
    )
    start_receiver()
    messages = [write_message(hootsuite.control, text=f"retry {i}") for i in range(6)]
    for message in messages:
        await eventually(lambda m=message: decided(db, m["id"], "approved"))
        assert sandbox_message(hootsuite.control, message["id"])["state"] == "SCHEDULED"


async def test_a_lost_approval_response_is_settled_by_reading_the_message(
    start_receiver: Callable[..., ReceiverServer], hootsuite: Any, db: Database
) -> None:
    hootsuite.control.faults(
        routes={"POST /v1/messages/{messageId}/approve": {"lost_response_rate": 1.0}}
    )
    start_receiver()
    message = write_message(hootsuite.control)
    row = await eventually(lambda: decided(db, message["id"], "approved"))
    assert "response lost" in row.reason
    assert sandbox_message(hootsuite.control, message["id"])["state"] == "SCHEDULED"
