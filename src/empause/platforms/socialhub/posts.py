"""Between SocialHub's Post JSON and our Message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from empause.domain.model import Message, MessageState
from empause.domain.timeutil import parse_time

# SocialHub statuses (seed 002's Post.status).
PRE_DRAFT = "preDraft"
DRAFT = "draft"
SCHEDULED = "scheduled"
PUBLISHING = "publishing"
PUBLISHED = "published"
FAILED_TO_PUBLISH = "failedToPublish"
NEEDS_APPROVAL = "needsApproval"

# Our name for a post out of the schedule (SocialHub's draft; the fake's in-place DRAFT).
DRAFT_STATE = "DRAFT"
STATES = {
    SCHEDULED: MessageState.SCHEDULED.value,
    NEEDS_APPROVAL: MessageState.PENDING_APPROVAL.value,
    PUBLISHING: MessageState.SUBMITTED.value,
    PUBLISHED: MessageState.SENT.value,
    FAILED_TO_PUBLISH: MessageState.SEND_FAILED_PERMANENTLY.value,
    DRAFT: DRAFT_STATE,
    PRE_DRAFT: DRAFT_STATE,
}
LIVE = {SCHEDULED, NEEDS_APPROVAL}  # in the schedule (or waiting for approval to be)
# SocialHub has no review steps; approve/reject need no sequence number, so every post is
# at the first (and only) one.
SEQUENCE_NUMBER = 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def publish_time(raw: dict[str, Any]) -> datetime | None:
    value = raw.get("publishTime")
    return parse_time(str(value)) if value else None


def same_instant(a: datetime | None, b: datetime) -> bool:
    """Equal to the millisecond (SocialHub keeps times to the millisecond)."""
    return a is not None and to_ms(a) == to_ms(b)


def to_ms(value: datetime) -> int:
    """Milliseconds since the epoch, exactly (float timestamps can be off by one)."""
    return (value - EPOCH) // timedelta(milliseconds=1)


def channel_id(raw: dict[str, Any]) -> str:
    channel = raw.get("channel")
    if isinstance(channel, dict) and channel.get("id") is not None:
        return str(channel["id"])
    return ""


def message_from_post(raw: dict[str, Any]) -> Message:
    """Our Message from a SocialHub Post, the full JSON kept in `raw`. A post without a
    publishTime (a draft) takes its creation time, so it still sorts somewhere sane."""
    content = raw.get("content") if isinstance(raw.get("content"), dict) else {}
    when = publish_time(raw) or parse_time(str(raw.get("createdTime")))
    author = raw.get("author")
    if raw.get("status") == NEEDS_APPROVAL and raw.get("suggestionAuthor"):
        # Who asks for it to be published: an emergency-team member's draft that someone
        # else suggested is theirs to answer for, and held while paused.
        author = raw["suggestionAuthor"]
    return Message(
        id=str(raw["_id"]),
        state=STATES.get(str(raw.get("status")), str(raw.get("status") or "")),
        scheduled_send_time=when,
        profile_id=channel_id(raw),
        text=str((content or {}).get("text") or ""),
        author_id=str(author) if author else None,
        sequence_number=SEQUENCE_NUMBER,
        raw=raw,
    )
