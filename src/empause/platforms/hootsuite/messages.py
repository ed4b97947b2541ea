"""Between Hootsuite's message JSON and ours: the response (SocialProfileMessage) is not the
request (Message), so re-creating a message means translating it field by field."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from empause.domain.model import Message
from empause.domain.timeutil import format_time, parse_time

# Request fields copied as they are from the response (same shape on both sides); `media`
# is the one optional field whose shape differs.
_COPIED = (
    "webhookUrls",
    "tags",
    "targeting",
    "privacy",
    "location",
    "emailNotification",
    "mediaUrls",
    "extendedInfo",
)


def _ref_id(raw: dict[str, Any], key: str) -> str | None:
    ref = raw.get(key)
    if isinstance(ref, dict) and ref.get("id") is not None:
        return str(ref["id"])
    return None


def message_from_json(raw: dict[str, Any]) -> Message:
    """Our Message from a SocialProfileMessage, keeping the full JSON in `raw`."""
    sequence = raw.get("sequenceNumber")
    return Message(
        id=str(raw["id"]),
        state=str(raw.get("state") or ""),
        scheduled_send_time=parse_time(str(raw["scheduledSendTime"])),
        profile_id=_ref_id(raw, "socialProfile") or str(raw.get("socialProfileId") or ""),
        text=str(raw.get("text") or ""),
        author_id=_ref_id(raw, "createdByMember"),
        sequence_number=int(sequence) if sequence is not None else None,
        raw=raw,
    )


def _media_request(media: list[Any]) -> list[dict[str, Any]]:
    """Response Media {id, thumbnailId, videoOptions} -> request {id, videoOptions}."""
    items = []
    for item in media:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        entry: dict[str, Any] = {"id": item["id"]}
        if item.get("videoOptions"):
            entry["videoOptions"] = _without_nulls(item["videoOptions"])
        items.append(entry)
    return items


def _without_nulls(value: Any) -> Any:
    """A copy without the nulls Hootsuite returns for every unset key: a request says only
    what is set (null is not a valid value for most request fields)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return copy.deepcopy(value)


def create_body(message: Message, when: datetime) -> dict[str, Any]:
    """The POST /v1/messages body that re-creates `message` at `when`, every field kept."""
    raw = message.raw
    body: dict[str, Any] = {
        "text": raw.get("text", message.text),
        "socialProfileIds": [message.profile_id],
        "scheduledSendTime": format_time(when),
    }
    for key in _COPIED:
        if raw.get(key) is not None:
            body[key] = _without_nulls(raw[key])
    if raw.get("media") is not None:
        body["media"] = _media_request(raw["media"])
    return body
