"""The in-memory Hootsuite world: organizations, members, teams, profiles, messages, tokens.

Pure state and rules, no HTTP: the routes translate requests into calls here. Messages are
kept in a dict by id plus SortedLists keyed by (send time in ms, numeric id), so window
queries and the publisher stay cheap with 100,000+ messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sortedcontainers import SortedList

from empause.domain.timeutil import format_time
from empause.sandbox.clock import SandboxClock
from empause.sandbox.representations import as_defined

# Optional Message fields (the spec's Message definition) kept verbatim and returned as given.
EXTRA_FIELDS = (
    "webhookUrls",
    "tags",
    "targeting",
    "privacy",
    "location",
    "emailNotification",
    "mediaUrls",
    "media",
    "extendedInfo",
)


@dataclass(slots=True)
class Organization:
    id: str
    name: str


@dataclass(slots=True)
class Member:
    id: str
    email: str
    full_name: str
    password: str
    organization_id: str
    is_admin: bool = False
    needs_approval: bool = False
    created: str = "2020-01-15T09:00:00Z"

    def to_api(self) -> dict:
        return {
            "id": self.id,
            "email": self.email,
            "isActive": True,
            "createdDate": self.created,
            "modifiedDate": self.created,
            "fullName": self.full_name,
            "companyName": "Sandbox County",
            "bio": "",
            "timezone": "America/Vancouver",
            "language": "en",
        }


@dataclass(slots=True)
class Team:
    id: str
    name: str
    organization_id: str
    member_ids: set[str] = field(default_factory=set)
    profile_ids: list[str] = field(default_factory=list)
    created_by: str | None = None
    created: str = "2020-01-15T09:00:00Z"

    def to_api(self) -> dict:
        data = {
            "id": self.id,
            "name": self.name,
            "logoUrl": "http://ow.ly/i/logo.png",
            "createdDate": self.created,
            "modifiedDate": self.created,
        }
        if self.created_by:
            data["createdByMember"] = {"id": self.created_by}
            data["modifiedByMember"] = {"id": self.created_by}
        return as_defined(data, "Team")


@dataclass(slots=True)
class SocialProfile:
    id: str
    type: str
    username: str
    network_id: str
    organization_id: str

    def to_api(self) -> dict:
        twitter = self.type == "TWITTER"
        return {
            "id": self.id,
            "type": self.type,
            "socialNetworkId": self.network_id,
            "socialNetworkUsername": None if twitter else self.username,
            "avatarUrl": None if twitter else f"http://static.ow.ly/avatars/{self.id}.png",
            "owner": "ORGANIZATION",
            "ownerId": self.organization_id,
            "isReauthRequired": 0,
        }

    def external_url(self) -> str:
        host = {
            "TWITTER": "twitter.com",
            "FACEBOOKPAGE": "www.facebook.com",
            "LINKEDINCOMPANY": "www.linkedin.com/company",
            "INSTAGRAMBUSINESS": "www.instagram.com",
            "YOUTUBECHANNEL": "www.youtube.com",
        }.get(self.type, "example.org")
        return f"https://{host}/{self.username}"


@dataclass(slots=True)
class Message:
    id: str
    num: int
    state: str
    text: str
    profile_id: str
    organization_id: str
    send_ms: int
    send_time: str
    extra: dict
    created_by: str | None
    created_at: str
    sequence_number: int | None = None
    reviewers: list | None = None
    post_id: str | None = None
    post_url: str | None = None
    deleted: bool = False
    history: list = field(default_factory=list)

    @property
    def key(self) -> tuple[int, int]:
        return (self.send_ms, self.num)

    def set_post(self, profile: SocialProfile | None) -> None:
        """The network's post id and URL, as publishing gives them."""
        self.post_id = str(9_000_000_000_000 + self.num)
        base = profile.external_url() if profile else "https://example.org"
        self.post_url = f"{base}/posts/{self.post_id}"

    def to_api(self) -> dict:
        """The spec's SocialProfileMessage, every key present (null where unset)."""
        return as_defined(self._set_fields(), "SocialProfileMessage")

    def _set_fields(self) -> dict:
        """The keys this message has a value for."""
        data: dict = {
            "id": self.id,
            "state": self.state,
            "text": self.text,
            "socialProfile": {"id": self.profile_id},
            "scheduledSendTime": self.send_time,
        }
        data.update(self.extra)
        if self.post_id:
            data["postId"] = self.post_id
            data["postUrl"] = self.post_url
        if self.created_by:
            data["createdByMember"] = {"id": self.created_by}
            data["lastUpdatedByMember"] = {"id": self.created_by}
        if self.sequence_number is not None:
            data["sequenceNumber"] = self.sequence_number
        if self.reviewers:
            data["reviewers"] = self.reviewers
        return data

    def to_state(self) -> dict:
        """Everything, for GET /_sandbox/state (only what is set: the state of 100,000
        messages stays small)."""
        data = self._set_fields()
        data["state"] = "DELETED" if self.deleted else self.state
        data["lastState"] = self.state
        data["deleted"] = self.deleted
        data["organizationId"] = self.organization_id
        data["createdAt"] = self.created_at
        data["createdByMember"] = {"id": self.created_by} if self.created_by else None
        data["history"] = self.history
        return data


@dataclass(slots=True)
class Token:
    """An access token; `member_id` or `organization_id` says whose account it acts for."""

    access_token: str
    client_id: str
    expires_ms: int
    member_id: str | None = None
    organization_id: str | None = None
    family: str = ""
    revoked: bool = False

    @property
    def account(self) -> str:
        if self.member_id:
            return f"member:{self.member_id}"
        if self.organization_id:
            return f"organization:{self.organization_id}"
        return f"app:{self.client_id}"


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def format_time_ms(value: datetime) -> str:
    """History and webhook timestamps: UTC to the millisecond, ending in 'Z'."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class World:
    """All sandbox state. Single-threaded: only the server's event loop touches it."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.organizations: dict[str, Organization] = {}
        self.members: dict[str, Member] = {}
        self.teams: dict[str, Team] = {}
        self.profiles: dict[str, SocialProfile] = {}
        self.messages: dict[str, Message] = {}
        self.index: SortedList = SortedList()  # (send_ms, num) of every non-deleted message
        self.due: SortedList = SortedList()  # (send_ms, num) of SCHEDULED messages
        self.by_num: dict[int, Message] = {}
        self.published: list[dict] = []
        self.next_num = 4_100_000_001
        self.app_installs: set[str] = set()  # "member:ID" / "organization:ID"
        self.on_event: Callable[[Message, str], None] = lambda message, state: None

    # --- directory ---------------------------------------------------------------------
    def member_teams(self, member_id: str) -> list[Team]:
        return [t for t in self.teams.values() if member_id in t.member_ids]

    def member_profile_ids(self, member_id: str) -> set[str]:
        member = self.members[member_id]
        if member.is_admin:
            return {
                p.id for p in self.profiles.values() if p.organization_id == member.organization_id
            }
        ids: set[str] = set()
        for team in self.member_teams(member_id):
            ids.update(team.profile_ids)
        return ids

    def visible_profile_ids(self, token: Token) -> set[str]:
        if token.member_id:
            return self.member_profile_ids(token.member_id)
        if token.organization_id:
            return {
                p.id for p in self.profiles.values() if p.organization_id == token.organization_id
            }
        return set()

    def token_organization(self, token: Token) -> str | None:
        if token.member_id:
            return self.members[token.member_id].organization_id
        return token.organization_id

    # --- messages ----------------------------------------------------------------------
    def new_id(self) -> int:
        num = self.next_num
        self.next_num += 1
        return num

    def add_message(self, message: Message) -> None:
        self.messages[message.id] = message
        self.by_num[message.num] = message
        if not message.deleted:
            self.index.add(message.key)
            if message.state == "SCHEDULED":
                self.due.add(message.key)

    def record(self, message: Message, action: str, actor: str | None, actor_type: str) -> None:
        message.history.append(
            {
                "actorType": actor_type,
                "actorId": actor or "0",
                "actionType": action,
                "timestamp": format_time_ms(self.clock.now()),
            }
        )

    def set_state(self, message: Message, state: str, event: str | None = None) -> None:
        """Change state, keep the due index right, and emit the webhook event."""
        if message.state == "SCHEDULED" and state != "SCHEDULED":
            self.due.discard(message.key)
        if state == "SCHEDULED" and message.state != "SCHEDULED":
            self.due.add(message.key)
        message.state = state
        self.on_event(message, event or state)

    def delete(self, message: Message) -> None:
        self.due.discard(message.key)
        self.index.discard(message.key)
        message.deleted = True
        self.on_event(message, "DELETED")

    def window(
        self, start_ms: int, end_ms: int, after: tuple[int, int] | None = None
    ) -> Iterator[Message]:
        """Non-deleted messages with start <= send < end, ascending, strictly after `after`."""
        lo = after if after is not None else (start_ms, -1)
        inclusive = (after is None, False)
        for key in self.index.irange(lo, (end_ms, -1), inclusive=inclusive):
            yield self.by_num[key[1]]

    def window_before(
        self, start_ms: int, before: tuple[int, int]
    ) -> Iterator[Message]:
        """Non-deleted messages with send >= start strictly before `before`, descending."""
        for key in self.index.irange((start_ms, -1), before, inclusive=(True, False), reverse=True):
            yield self.by_num[key[1]]

    def publish_due(self) -> int:
        """Publish every SCHEDULED message whose time has come; returns how many."""
        now = self.clock.now()
        now_ms = to_ms(now)
        count = 0
        while self.due and self.due[0][0] <= now_ms:
            key = self.due.pop(0)
            message = self.by_num[key[1]]
            message.set_post(self.profiles.get(message.profile_id))
            message.state = "SENT"
            self.record(message, "SEND", None, "SYSTEM")
            self.published.append(
                {
                    "message_id": message.id,
                    "social_profile_id": message.profile_id,
                    "text": message.text,
                    "scheduledSendTime": message.send_time,
                    "published_at": format_time(now),
                    "createdByMember": message.created_by,
                    "postId": message.post_id,
                }
            )
            self.on_event(message, "SENT")
            count += 1
        return count
