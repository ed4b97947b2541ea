"""Parsing webhook bodies into inbox rows; pure, so bad input is rejected before any I/O.

Hootsuite's REST webhooks are unsigned and carry only ids: nothing here is trusted beyond
"this message id may have changed"; the worker re-reads the platform before any decision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PING = "com.hootsuite.ping.event.v1"
MESSAGES = "com.hootsuite.messages.event.v1"
MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS = 1000
_ID_MAX = 64
_STATE_MAX = 32
_SEQ_MAX = 32


class BadEvent(ValueError):
    """The body is not a Hootsuite event (or array of them); answer 4xx and decide nothing."""

    status = 422


class NotJSON(BadEvent):
    status = 400


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """One `com.hootsuite.messages.event.v1`: a message id that may have changed state."""

    organization_id: str | None
    message_id: str
    state: str
    seq_no: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ParsedBody:
    messages: list[MessageEvent]
    pings: int
    other: int  # well-formed events of types we do not act on (comments, apps)


def _id(value: Any, what: str, max_len: int, *, optional: bool = False) -> str | None:
    """Ids arrive as strings; integers are tolerated, anything else is refused."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadEvent(f"{what} must be a string")
    text = str(value)
    if not text or len(text) > max_len or not text.isprintable():
        raise BadEvent(f"{what} is empty, too long or not printable")
    return text


def _message_event(event: dict[str, Any]) -> MessageEvent:
    data = event.get("data")
    if not isinstance(data, dict):
        raise BadEvent("data must be an object")
    message = data.get("message")
    if not isinstance(message, dict):
        raise BadEvent("data.message must be an object")
    organization = data.get("organization")
    if organization is not None and not isinstance(organization, dict):
        raise BadEvent("data.organization must be an object or null")
    state = data.get("state")
    if not isinstance(state, str) or not state or len(state) > _STATE_MAX:
        raise BadEvent("data.state must be a short string")
    seq_no = _id(event.get("seq_no"), "seq_no", _SEQ_MAX, optional=True) or ""
    message_id = _id(message.get("id"), "data.message.id", _ID_MAX)
    assert message_id is not None
    organization_id = _id(
        (organization or {}).get("id"), "data.organization.id", _ID_MAX, optional=True
    )
    return MessageEvent(organization_id, message_id, state.upper(), seq_no, event)


def parse_body(body: bytes) -> ParsedBody:
    """One event or an array of events, all well-formed, or BadEvent for the whole body."""
    if len(body) > MAX_BODY_BYTES:
        raise BadEvent("body too large")
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotJSON(f"not JSON: {exc}") from None
    except RecursionError:
        raise NotJSON("not JSON we accept: nested too deeply") from None
    events = decoded if isinstance(decoded, list) else [decoded]
    if len(events) > MAX_EVENTS:
        raise BadEvent(f"more than {MAX_EVENTS} events in one body")
    messages: list[MessageEvent] = []
    pings = other = 0
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise BadEvent(f"event {index} is not an object")
        kind = event.get("type")
        if not isinstance(kind, str):
            raise BadEvent(f"event {index} has no type")
        if kind == PING:
            pings += 1
        elif kind == MESSAGES:
            try:
                messages.append(_message_event(event))
            except BadEvent as exc:
                raise BadEvent(f"event {index}: {exc}") from None
        elif kind.startswith("com.hootsuite.") and len(kind) <= 64:
            other += 1
        else:
            raise BadEvent(f"event {index} has an unknown type")
    return ParsedBody(messages, pings, other)
