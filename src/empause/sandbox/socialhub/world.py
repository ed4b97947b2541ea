"""The in-memory SocialHub world: accounts, users, teams, channels, post groups, posts.

Pure state and rules, no HTTP: the routes translate requests into calls here. Posts are kept
in a dict by `_id` plus SortedLists keyed by (publish time in ms, number), so window queries
and the publisher stay cheap with tens of thousands of posts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sortedcontainers import SortedList

from empause.domain.timeutil import format_time
from empause.sandbox.clock import SandboxClock
from empause.sandbox.world import format_time_ms

# Post statuses, as the spec's Post.status names them.
PRE_DRAFT = "preDraft"
DRAFT = "draft"
SCHEDULED = "scheduled"
PUBLISHING = "publishing"
PUBLISHED = "published"
FAILED_TO_PUBLISH = "failedToPublish"
NEEDS_APPROVAL = "needsApproval"
STATUSES = (PRE_DRAFT, DRAFT, SCHEDULED, PUBLISHING, PUBLISHED, FAILED_TO_PUBLISH,
            NEEDS_APPROVAL)  # fmt: skip

# Permissions (GET / lists them; routes check them as the spec's descriptions say).
VIEW_POSTS = "ViewPosts"
EDIT_POSTS = "EditPosts"
PUBLISH_POSTS = "PublishPosts"
APPROVE_POSTS = "ApprovePosts"
REJECT_POST = "RejectPost"
VIEW_TEAMS = "ViewTeams"
VIEW_CHANNELS = "ViewChannels"
ROLE_PERMISSIONS = {
    "ADMIN": (VIEW_POSTS, EDIT_POSTS, PUBLISH_POSTS, APPROVE_POSTS, REJECT_POST, VIEW_TEAMS,
              VIEW_CHANNELS, "EditUsers", "ViewAccountSettings"),
    "SMM": (VIEW_POSTS, EDIT_POSTS, PUBLISH_POSTS, APPROVE_POSTS, REJECT_POST, VIEW_TEAMS,
            VIEW_CHANNELS),
    "EDITOR": (VIEW_POSTS, EDIT_POSTS, VIEW_TEAMS, VIEW_CHANNELS),
}  # fmt: skip
CREATED = "2020-01-15T09:00:00.000Z"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


def to_ms(value: datetime) -> int:
    """Milliseconds since the epoch, exactly (float timestamps can be off by one)."""
    return (value - EPOCH) // MILLISECOND


def object_id(number: int) -> str:
    """A 24-hex ObjectId; deterministic, so seeds give the same ids every time."""
    return f"656d7061{number:016x}"


@dataclass(slots=True)
class Account:
    id: str
    name: str


@dataclass(slots=True)
class User:
    id: str
    account_id: str
    email: str
    first_name: str
    last_name: str
    role: str
    access_token: str

    @property
    def user_name(self) -> str:
        return self.email

    @property
    def permissions(self) -> list[str]:
        return list(ROLE_PERMISSIONS.get(self.role, (VIEW_POSTS,)))

    def to_api(self) -> dict:
        return {
            "_id": self.id, "accountId": self.account_id, "email": self.email,
            "userName": self.user_name, "firstName": self.first_name,
            "lastName": self.last_name, "role": self.role, "locale": "en",
            "updatedTime": CREATED, "createdTime": CREATED, "permissions": self.permissions,
            "readOnlyChannelIds": [],
        }  # fmt: skip


@dataclass(slots=True)
class Team:
    id: str
    account_id: str
    name: str
    users: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    admins: list[str] = field(default_factory=list)

    def to_api(self) -> dict:
        return {
            "_id": self.id, "accountId": self.account_id, "name": self.name,
            "users": list(self.users), "channels": list(self.channels),
            "admins": list(self.admins), "createdTime": CREATED,
        }  # fmt: skip


@dataclass(slots=True)
class Channel:
    id: str
    account_id: str
    name: str
    unique_name: str
    network: str  # FACEBOOK, TWITTER, INSTAGRAM_BUSINESS, ...

    def ref(self) -> dict:
        """The channel as a Post embeds it."""
        return {"id": self.id, "uniqueName": self.unique_name, "socialNetwork": self.network}

    def summary(self) -> dict:
        return {
            "_id": self.id, "name": self.name, "uniqueName": self.unique_name,
            "socialNetwork": self.network,
            "imageUrl": f"https://static.example.org/channels/{self.id}.png",
            "products": {"cp": True, "inbox": True},
        }  # fmt: skip

    def to_api(self) -> dict:
        return {**self.summary(), "networkUrl": f"https://example.org/{self.unique_name}"}


@dataclass(slots=True)
class PostGroup:
    id: str
    account_id: str
    author: str
    post_ids: list[str] = field(default_factory=list)

    def to_api(self) -> dict:
        return {"_id": self.id, "accountId": self.account_id}


@dataclass(slots=True)
class Post:
    id: str
    num: int
    account_id: str
    group_id: str
    channel: Channel
    status: str
    author: str
    content: dict
    created_time: str
    publish_ms: int | None = None
    publish_time_zone: str | None = None
    updated_time: str | None = None
    suggestion_author: str | None = None
    assignee: str | None = None
    needs_attention: bool = False
    tags: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    network_url: str | None = None
    history: list = field(default_factory=list)  # the post's feed: who did what, when

    @property
    def key(self) -> tuple[int, int]:
        assert self.publish_ms is not None
        return (self.publish_ms, self.num)

    @property
    def publish_time(self) -> str | None:
        if self.publish_ms is None:
            return None
        return format_time_ms(EPOCH + timedelta(milliseconds=self.publish_ms))

    def to_api(self) -> dict:
        """The spec's Post, with the keys this sandbox models (null where unset)."""
        return {
            "_id": self.id,
            "accountId": self.account_id,
            "postGroupId": self.group_id,
            "channel": self.channel.ref(),
            "status": self.status,
            "flags": {"imported": False, "darkpost": False,
                      "needsAttention": self.needs_attention, "promoted": False},
            "tags": self.tags,
            "categories": self.categories,
            "author": self.author,
            "suggestionAuthor": self.suggestion_author,
            "assignee": self.assignee,
            "content": self.content,
            "createdTime": self.created_time,
            "updatedTime": self.updated_time or self.created_time,
            "publishTime": self.publish_time,
            "publishTimeZone": self.publish_time_zone,
            "networkUrl": self.network_url,
            "warnings": [],
        }  # fmt: skip

    def to_state(self) -> dict:
        """For GET /_sandbox/state: the post plus its history."""
        return {**self.to_api(), "history": self.history}


class World:
    """All sandbox state. Single-threaded: only the server's event loop touches it."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.accounts: dict[str, Account] = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}  # access token -> user id
        self.teams: dict[str, Team] = {}
        self.channels: dict[str, Channel] = {}
        self.groups: dict[str, PostGroup] = {}
        self.posts: dict[str, Post] = {}
        self.by_num: dict[int, Post] = {}
        self.timed: SortedList = SortedList()  # (publish_ms, num) of every post with a time
        self.due: SortedList = SortedList()  # (publish_ms, num) of scheduled posts
        self.published: list[dict] = []
        self.next_num = 1_000_000

    # --- ids and directory ----------------------------------------------------------------
    def new_id(self) -> tuple[str, int]:
        num = self.next_num
        self.next_num += 1
        return object_id(num), num

    def add_user(self, user: User) -> None:
        self.users[user.id] = user
        self.tokens[user.access_token] = user.id

    def user_teams(self, user_id: str) -> list[Team]:
        return [t for t in self.teams.values() if user_id in t.users]

    def user_channel_ids(self, user: User) -> set[str]:
        """Channels the user works with: every channel for an admin, else their teams'."""
        if user.role == "ADMIN":
            return {c.id for c in self.channels.values() if c.account_id == user.account_id}
        ids: set[str] = set()
        for team in self.user_teams(user.id):
            ids.update(team.channels)
        return ids

    # --- posts ----------------------------------------------------------------------------
    def now_stamp(self) -> str:
        return format_time_ms(self.clock.now())

    def record(self, post: Post, action: str, actor: str | None, **details: object) -> None:
        post.history.append(
            {"action": action, "actor": actor, "time": self.now_stamp(), **details}
        )

    def add_post(self, post: Post) -> None:
        self.posts[post.id] = post
        self.by_num[post.num] = post
        if post.publish_ms is not None:
            self.timed.add(post.key)
            if post.status == SCHEDULED:
                self.due.add(post.key)

    def remove_post(self, post: Post) -> None:
        """DELETE (preDraft only): gone for good, as upstream."""
        if post.publish_ms is not None:
            self.timed.discard(post.key)
            self.due.discard(post.key)
        del self.posts[post.id]
        del self.by_num[post.num]
        group = self.groups.get(post.group_id)
        if group is not None:
            group.post_ids = [p for p in group.post_ids if p != post.id]
            if not group.post_ids:
                del self.groups[group.id]

    def set_publish_time(self, post: Post, publish_ms: int | None) -> None:
        if post.publish_ms is not None:
            self.timed.discard(post.key)
            self.due.discard(post.key)
        post.publish_ms = publish_ms
        if publish_ms is not None:
            self.timed.add(post.key)
            if post.status == SCHEDULED:
                self.due.add(post.key)

    def set_status(self, post: Post, status: str) -> None:
        if post.publish_ms is not None:
            if post.status == SCHEDULED and status != SCHEDULED:
                self.due.discard(post.key)
            elif status == SCHEDULED and post.status != SCHEDULED:
                self.due.add(post.key)
        post.status = status

    def timed_between(
        self, since_ms: int | None, until_ms: int | None, reverse: bool = False
    ) -> Iterator[Post]:
        """Posts with since <= publishTime <= until (both inclusive), by (time, number)."""
        lo = (since_ms, -1) if since_ms is not None else None
        hi = (until_ms, float("inf")) if until_ms is not None else None
        for key in self.timed.irange(lo, hi, reverse=reverse):
            yield self.by_num[key[1]]

    def publish_due(self) -> int:
        """Publish every scheduled post whose time has come; returns how many."""
        now = self.clock.now()
        now_ms = to_ms(now)
        count = 0
        while self.due and self.due[0][0] <= now_ms:
            key = self.due.pop(0)
            post = self.by_num[key[1]]
            post.status = PUBLISHED
            post.network_url = f"https://example.org/{post.channel.unique_name}/posts/{post.num}"
            self.record(post, "published", None)
            self.published.append({
                "_id": post.id, "channel": post.channel.id,
                "text": str(post.content.get("text") or ""), "publishTime": post.publish_time,
                "published_at": format_time(now), "author": post.author,
            })  # fmt: skip
            count += 1
        return count
