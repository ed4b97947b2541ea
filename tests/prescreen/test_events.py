"""Parsing webhook bodies: Hootsuite's envelope in, inbox rows out, anything else refused."""

from __future__ import annotations

import json

import pytest

from empause.prescreen.events import (
    MAX_BODY_BYTES,
    MESSAGES,
    PING,
    BadEvent,
    NotJSON,
    parse_body,
)


def event(state: str = "PENDING_APPROVAL", message_id: object = "4094517701", **extra: object):
    body: dict = {
        "seq_no": "12",
        "type": MESSAGES,
        "data": {
            "state": state,
            "organization": {"id": "832420"},
            "message": {"id": message_id},
            "timestamp": "2016-07-19T21:51:32.175Z",
        },
    }
    body.update(extra)
    return body


def test_the_plans_example_array_parses() -> None:
    parsed = parse_body(json.dumps([event()]).encode())
    (only,) = parsed.messages
    assert (only.organization_id, only.message_id, only.state, only.seq_no) == (
        "832420", "4094517701", "PENDING_APPROVAL", "12",
    )  # fmt: skip
    assert only.payload["data"]["timestamp"] == "2016-07-19T21:51:32.175Z"


def test_a_single_event_object_and_pings() -> None:
    assert len(parse_body(json.dumps(event()).encode()).messages) == 1
    parsed = parse_body(json.dumps([{"type": PING, "data": {}}, event()]).encode())
    assert parsed.pings == 1 and len(parsed.messages) == 1


def test_null_organization_and_missing_seq_no_are_accepted() -> None:
    body = event()
    body["data"]["organization"] = None
    del body["seq_no"]
    (only,) = parse_body(json.dumps(body).encode()).messages
    assert only.organization_id is None and only.seq_no == ""


def test_other_hootsuite_event_types_are_counted_not_stored() -> None:
    parsed = parse_body(json.dumps([{"type": "com.hootsuite.comments.event.v1"}]).encode())
    assert parsed.other == 1 and parsed.messages == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"42",
        b'"text"',
        b"[1, 2]",
        json.dumps({"data": {}}).encode(),
        json.dumps({"type": "something.else"}).encode(),
        json.dumps(event(message_id=None)).encode(),
        json.dumps(event(message_id=True)).encode(),
        json.dumps(event(message_id={"id": 1})).encode(),
        json.dumps(event(message_id="")).encode(),
        json.dumps(event(message_id="x" * 65)).encode(),
        json.dumps(event(state=7)).encode(),
        json.dumps(event(seq_no=["1"])).encode(),
        json.dumps({"type": MESSAGES, "data": "PENDING_APPROVAL"}).encode(),
        json.dumps({"type": MESSAGES, "data": {"state": "SENT", "message": "1"}}).encode(),
        json.dumps([event(), event(message_id=None)]).encode(),  # all or nothing
    ],
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(BadEvent):
        parse_body(body)


def test_oversized_bodies_are_refused() -> None:
    with pytest.raises(BadEvent, match="too large"):
        parse_body(b" " * (MAX_BODY_BYTES + 1))


def test_bodies_that_are_not_json_are_told_apart() -> None:
    """The receiver answers 400 for what is not JSON, 422 for JSON that is not an event."""
    for body in (b"{not json", b"", b"\xff\xfe"):
        with pytest.raises(NotJSON) as raised:
            parse_body(body)
        assert raised.value.status == 400
    with pytest.raises(BadEvent) as raised:
        parse_body(b"42")
    assert not isinstance(raised.value, NotJSON) and raised.value.status == 422
