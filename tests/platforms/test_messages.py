"""Response JSON -> Message, and Message -> the request body that re-creates it."""

from __future__ import annotations

from datetime import UTC, datetime

from empause.platforms.hootsuite.envelope import data_one, next_cursor, to_exception
from empause.platforms.hootsuite.messages import create_body, message_from_json
from empause.platforms.port import AlreadySent, NotFound, Permanent
from empause.sandbox.world import EXTRA_FIELDS

RAW = {
    "id": "4100000123",
    "state": "SCHEDULED",
    "text": "Farmers market opens Saturday",
    "socialProfile": {"id": "115185502", "externalURL": "https://facebook.com/x"},
    "scheduledSendTime": "2026-05-01T14:00:00Z",
    "webhookUrls": ["https://example.org/hook"],
    "tags": ["community", "events"],
    "targeting": {"facebookPage": {"ageMin": 18, "countries": [{"k": "Canada", "v": "CA"}]}},
    "privacy": {"facebook": {"visibility": ["everyone"]}},
    "location": {"latitude": 49.1, "longitude": -123.2},
    "emailNotification": True,
    "mediaUrls": [{"url": "http://static.ow.ly/photos/normal/a.jpg"}],
    "media": [
        {"id": "bWVkaWE=", "thumbnailId": "dGh1bWI=", "videoOptions": {"facebook": {"title": "T"}}}
    ],
    "extendedInfo": [{"socialProfileType": "PINTEREST", "data": {"boardId": "1"}}],
    "createdByMember": {"id": "19000003"},
    "lastUpdatedByMember": {"id": "19000003"},
    "sequenceNumber": 2,
    "postId": None,
}


def test_message_from_json():
    message = message_from_json(RAW)
    assert message.id == "4100000123"
    assert message.state == "SCHEDULED"
    assert message.scheduled_send_time == datetime(2026, 5, 1, 14, tzinfo=UTC)
    assert message.profile_id == "115185502"
    assert message.author_id == "19000003"
    assert message.sequence_number == 2
    assert message.raw is RAW


def test_create_body_keeps_every_request_field():
    when = datetime(2026, 5, 8, 14, 0, 0, 500_000, tzinfo=UTC)
    body = create_body(message_from_json(RAW), when)
    assert body["socialProfileIds"] == ["115185502"]
    assert body["scheduledSendTime"] == "2026-05-08T14:00:00Z"
    for key in (
        "text",
        "webhookUrls",
        "tags",
        "targeting",
        "privacy",
        "location",
        "emailNotification",
        "mediaUrls",
        "extendedInfo",
    ):
        assert body[key] == RAW[key], key
    assert body["media"] == [{"id": "bWVkaWE=", "videoOptions": {"facebook": {"title": "T"}}}]
    assert "id" not in body and "state" not in body and "sequenceNumber" not in body
    # Every optional field the (spec-following) sandbox keeps, and nothing else.
    assert set(body) == {"text", "socialProfileIds", "scheduledSendTime", *EXTRA_FIELDS}


def test_envelopes():
    assert data_one({"data": [{"id": "1"}]}) == {"id": "1"}
    assert data_one({"data": {"id": "1"}}) == {"id": "1"}
    assert next_cursor({"data": [], "metadata": {"cursor": {"next": "abc"}}}) == "abc"
    assert next_cursor({"data": [], "metadata": {"cursor": {"next": None}}}) is None


def test_error_mapping():
    assert isinstance(to_exception(400, {"errors": [{"code": 40003, "message": "x"}]}), AlreadySent)
    assert isinstance(to_exception(404, {"errors": [{"code": 4001}]}), NotFound)
    error = to_exception(400, {"errors": [{"code": 4000, "message": "Schema validation failed"}]})
    assert type(error) is Permanent and error.code == 4000 and error.status == 400
