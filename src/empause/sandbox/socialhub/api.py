"""The SocialHub API2 routes an emergency-pause app needs (seed 002), with the spec's
validation, status transitions, error shapes and offset pagination."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from empause.domain.timeutil import parse_time
from empause.sandbox.http import Request, Response, dumps
from empause.sandbox.socialhub.errors import ShError, conflict, invalid, not_found
from empause.sandbox.socialhub.state import SocialHubSandbox
from empause.sandbox.socialhub.world import (
    APPROVE_POSTS,
    CREATED,
    DRAFT,
    EDIT_POSTS,
    FAILED_TO_PUBLISH,
    NEEDS_APPROVAL,
    PRE_DRAFT,
    PUBLISH_POSTS,
    PUBLISHED,
    PUBLISHING,
    REJECT_POST,
    SCHEDULED,
    STATUSES,
    VIEW_CHANNELS,
    VIEW_POSTS,
    VIEW_TEAMS,
    Post,
    PostGroup,
    User,
    to_ms,
)

OBJECT_ID = re.compile(r"^[a-f0-9]{24}$")
DEFAULT_COUNT = 25
MAX_COUNT = 100
TWEET_LIMIT = 280
SORT_FIELDS = ("createdTime", "publishTime")
CONTENT_TYPES = ("POST", "CAROUSEL", "SLIDESHOW", "ALBUM", "TWEET", "MEDIA",
                 "STORY_WORKAROUND", "PIN")  # fmt: skip
# PATCH accepts these; the spec says `_id` (and we say every read-only key) is ignored.
WRITABLE = ("content", "publishTime", "publishTimeZone", "tags", "categories", "assignee")
READ_ONLY = ("_id", "accountId", "postGroupId", "channel", "status", "flags", "author",
             "suggestionAuthor", "createdTime", "updatedTime", "networkUrl", "warnings")  # fmt: skip
# Where each post-level transition may start (anything else is 409).
CAN_SCHEDULE = (PRE_DRAFT, DRAFT, FAILED_TO_PUBLISH)
CAN_SUGGEST = (DRAFT, FAILED_TO_PUBLISH)  # the spec: 409 for preDraft
CAN_SUGGEST_GROUP = (PRE_DRAFT, DRAFT, FAILED_TO_PUBLISH)
LOCKED = (PUBLISHING, PUBLISHED)


# --- helpers -----------------------------------------------------------------------------
def ok(data: object, status: int = 200) -> Response:
    return Response(status, dumps(data))


def empty(status: int = 200) -> Response:
    return Response(status, b"")


def json_body(req: Request, required: bool = True) -> dict:
    if not req.body.strip():
        if required:
            raise ShError(400, "A JSON request body is required")
        return {}
    try:
        body = json.loads(req.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ShError(400, f"Malformed JSON body: {exc}") from None
    if not isinstance(body, dict):
        raise ShError(400, "The request body must be a JSON object")
    return body


def require(user: User, permission: str) -> None:
    if permission not in user.permissions:
        raise ShError(403, f"Missing permission {permission}")


def _time_ms(value: object, name: str) -> int:
    if not isinstance(value, str) or not value:
        raise ShError(400, f"{name} must be an ISO date-time string")
    try:
        return to_ms(parse_time(value))
    except ValueError:
        raise ShError(400, f"{name} is not a valid ISO date-time with a timezone: {value!r}") from None


def _visible(sb: SocialHubSandbox, user: User, post: Post) -> bool:
    return post.account_id == user.account_id and (
        post.channel.id in sb.world.user_channel_ids(user)
    )


def _post(sb: SocialHubSandbox, user: User, post_id: str) -> Post:
    post = sb.world.posts.get(post_id)
    if post is None or not _visible(sb, user, post):
        raise not_found("Post", post_id)
    return post


def _group(sb: SocialHubSandbox, user: User, group_id: str) -> PostGroup:
    if not OBJECT_ID.match(group_id):
        raise ShError(400, f"Invalid postGroup id {group_id!r}")
    group = sb.world.groups.get(group_id)
    if group is None or group.account_id != user.account_id:
        raise not_found("PostGroup", group_id)
    return group


def _has_content(post: Post) -> bool:
    content = post.content
    return bool(content.get("text") or content.get("images") or content.get("videos")
                or content.get("links") or content.get("animations"))  # fmt: skip


def _check_publishable(sb: SocialHubSandbox, post: Post) -> None:
    """What scheduling (or suggesting) needs: a time in the future and some content."""
    if post.publish_ms is None:
        raise conflict(f"Post {post.id} has no publishTime")
    if post.publish_ms <= sb.now_ms():
        raise invalid("publishTime", "publishTimeNotInFuture")
    if not _has_content(post):
        raise invalid("content", "requireTextLinkImageOrVideo")


def _transition(sb: SocialHubSandbox, post: Post, status: str, action: str, actor: str,
                **details: object) -> None:  # fmt: skip
    sb.world.set_status(post, status)
    post.updated_time = sb.world.now_stamp()
    sb.world.record(post, action, actor, **details)


# --- general, users, teams, channels ------------------------------------------------------
def me(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    channels = sorted(sb.world.user_channel_ids(user))
    account = sb.world.accounts[user.account_id]
    return ok({
        "accountId": user.account_id, "userId": user.id, "locale": "en",
        "activeChannelIds": channels, "channelIds": channels, "permissions": user.permissions,
        "features": {"teams": True, "approvalWorkflow": True},
        "expirationTime": "2099-12-31T23:59:59.000Z", "package": "ENTERPRISE",
        "accountName": account.name, "userName": user.user_name, "role": user.role,
        "lastLoginTime": CREATED, "readOnlyChannelIds": [],
    })  # fmt: skip


def teams(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, VIEW_TEAMS)
    return ok([t.to_api() for t in sb.world.teams.values() if t.account_id == user.account_id])


def users(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    world = sb.world
    if user.role == "ADMIN":
        visible = [u for u in world.users.values() if u.account_id == user.account_id]
    else:
        mates = {user.id}
        for team in world.user_teams(user.id):
            mates.update(team.users)
        visible = [u for u in world.users.values() if u.id in mates]
    return ok([u.to_api() for u in visible])


def channels_summary(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, VIEW_CHANNELS)
    team_ids = set(_list_arg(req.query, "teamIds"))
    wanted: set[str] | None = None
    if team_ids:
        wanted = set()
        for team in sb.world.teams.values():
            if team.id in team_ids:
                wanted.update(team.channels)
    return ok([
        c.summary() for c in sb.world.channels.values()
        if c.account_id == user.account_id and (wanted is None or c.id in wanted)
    ])  # fmt: skip


# --- listing posts ------------------------------------------------------------------------
def _list_arg(pairs: Iterable[tuple[str, str]], name: str) -> list[str]:
    """`name=a&name=b`, `name[]=a`, `name[0]=a` and `name=a,b` all mean [a, b]."""
    values: list[str] = []
    for key, value in pairs:
        if key == name or key == f"{name}[]" or re.fullmatch(rf"{name}\[\d+\]", key):
            values.extend(v for v in value.split(",") if v)
    return values


def _int(value: object, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ShError(400, f"{name} must be an integer")
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ShError(400, f"{name} must be an integer") from None
    if isinstance(value, float) and value != number:
        raise ShError(400, f"{name} must be an integer")
    return number


def _bool(value: object, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ShError(400, f"{name} must be a boolean")


def _query_from_args(req: Request) -> dict:
    pairs = req.query
    single = {k: v for k, v in pairs}
    return {
        "offset": single.get("offset"), "count": single.get("count"),
        "postGroupId": single.get("postGroupId"), "status": _list_arg(pairs, "status"),
        "channelIds": _list_arg(pairs, "channelIds"), "assignees": _list_arg(pairs, "assignees"),
        "since": single.get("since"), "until": single.get("until"),
        "sortBy": single.get("sortBy"), "order": single.get("order"),
        "search": single.get("search"), "needsAttention": single.get("needsAttention"),
        "type": single.get("type"),
    }  # fmt: skip


def _as_list(value: object, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ShError(400, f"{name} must be a string or an array of strings")


def _query(sb: SocialHubSandbox, user: User, raw: dict) -> Response:
    require(user, VIEW_POSTS)
    offset = _int(raw.get("offset"), "offset", 0)
    count = _int(raw.get("count"), "count", DEFAULT_COUNT)
    if offset < 0:
        raise ShError(400, "offset must be >= 0")
    if not 1 <= count <= MAX_COUNT:
        raise ShError(400, f"count must be between 1 and {MAX_COUNT}")
    statuses = set(_as_list(raw.get("status"), "status"))
    if statuses - set(STATUSES):
        raise ShError(400, f"Unknown status {sorted(statuses - set(STATUSES))[0]!r}")
    channel_ids = set(_as_list(raw.get("channelIds"), "channelIds"))
    assignees = set(_as_list(raw.get("assignees"), "assignees"))
    sort_by = raw.get("sortBy") or "createdTime"
    order = raw.get("order") or "desc"
    if sort_by not in SORT_FIELDS:
        raise ShError(400, "sortBy must be createdTime or publishTime")
    if order not in ("asc", "desc"):
        raise ShError(400, "order must be asc or desc")
    since = None if raw.get("since") in (None, "") else _time_ms(raw["since"], "since")
    until = None if raw.get("until") in (None, "") else _time_ms(raw["until"], "until")
    group_id = raw.get("postGroupId")
    if group_id is not None and (not isinstance(group_id, str) or not OBJECT_ID.match(group_id)):
        raise ShError(400, "postGroupId must be an ObjectId")
    search = raw.get("search")
    if search is not None and not isinstance(search, str):
        raise ShError(400, "search must be a string")
    attention = _bool(raw.get("needsAttention"), "needsAttention")
    kind = raw.get("type")
    world = sb.world
    allowed = world.user_channel_ids(user)
    needle = search.lower() if search else None

    def keep(p: Post) -> bool:
        return (
            p.account_id == user.account_id
            and (p.channel.id in allowed if group_id is None else p.group_id == group_id)
            and (not statuses or p.status in statuses)
            and (not channel_ids or p.channel.id in channel_ids)
            and (not assignees or p.assignee in assignees)
            and (attention is None or p.needs_attention is attention)
            and (kind is None or p.content.get("type") == kind)
            and (needle is None or needle in str(p.content.get("text") or "").lower())
        )

    descending = order == "desc"
    if sort_by == "publishTime":
        found = [p for p in world.timed_between(since, until, reverse=descending) if keep(p)]
        if since is None and until is None:  # posts without a time come last
            found += [p for p in world.posts.values() if p.publish_ms is None and keep(p)]
    else:
        found = [
            p for p in world.posts.values()
            if keep(p) and (since is None or to_ms(parse_time(p.created_time)) >= since)
            and (until is None or to_ms(parse_time(p.created_time)) <= until)
        ]  # fmt: skip
        found.sort(key=lambda p: (p.created_time, p.num), reverse=descending)
    page = found[offset : offset + count]
    return ok({"count": len(found), "data": [p.to_api() for p in page]})


def list_posts(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    return _query(sb, user, _query_from_args(req))


def query_posts(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    return _query(sb, user, json_body(req, required=False))


def post_counts(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, VIEW_POSTS)
    allowed = sb.world.user_channel_ids(user)
    mine = [p for p in sb.world.posts.values() if p.channel.id in allowed]
    return ok({
        "draft": sum(p.status == DRAFT for p in mine),
        "needsApproval": sum(p.status == NEEDS_APPROVAL for p in mine),
        "scheduled": sum(p.status == SCHEDULED for p in mine),
        "needsAttention": sum(p.needs_attention for p in mine),
    })  # fmt: skip


# --- post groups ------------------------------------------------------------------------
def create_group(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, EDIT_POSTS)
    body = json_body(req)
    ids = body.get("channelIds")
    if not isinstance(ids, list) or not ids or not all(
        isinstance(i, str) and OBJECT_ID.match(i) for i in ids
    ):
        raise ShError(400, "channelIds must be a non-empty array of ObjectIds")
    world = sb.world
    allowed = world.user_channel_ids(user)
    for cid in ids:
        if cid not in allowed:
            raise ShError(404, f"Channel {cid} is not available")
    publish_ms = None
    if body.get("publishTime") is not None:
        publish_ms = _time_ms(body["publishTime"], "publishTime")
    zone = body.get("publishTimeZone")
    if zone is not None and not isinstance(zone, str):
        raise ShError(400, "publishTimeZone must be a string")
    if any(p.author == user.id and p.status == PRE_DRAFT for p in world.posts.values()):
        raise conflict("The user already has a postGroup with posts in preDraft state")
    group_id, _ = world.new_id()
    group = PostGroup(group_id, user.account_id, user.id)
    world.groups[group_id] = group
    stamp = world.now_stamp()
    for cid in dict.fromkeys(ids):
        channel = world.channels[cid]
        post_id, num = world.new_id()
        post = Post(
            id=post_id, num=num, account_id=user.account_id, group_id=group_id,
            channel=channel, status=PRE_DRAFT, author=user.id,
            content={"type": "TWEET" if channel.network == "TWITTER" else "POST", "text": ""},
            created_time=stamp, publish_ms=publish_ms, publish_time_zone=zone or "UTC",
        )  # fmt: skip
        world.record(post, "created", user.id)
        world.add_post(post)
        group.post_ids.append(post_id)
    return ok(group.to_api(), 201)


def pre_draft_group(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    """The user's current working post group (the one with their preDraft posts), or 404."""
    require(user, VIEW_POSTS)
    for post in sb.world.posts.values():
        if post.author == user.id and post.status == PRE_DRAFT:
            return ok(sb.world.groups[post.group_id].to_api())
    raise ShError(404, "The user has no post group in preDraft")


def _group_posts(sb: SocialHubSandbox, group: PostGroup) -> list[Post]:
    return [sb.world.posts[p] for p in group.post_ids if p in sb.world.posts]


def delete_group(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, EDIT_POSTS)
    group = _group(sb, user, req.params["id"])
    posts = _group_posts(sb, group)
    if any(p.status != PRE_DRAFT or p.author != user.id for p in posts):
        raise conflict("The postGroup has posts of other users or posts that are not preDraft")
    for post in posts:
        sb.world.remove_post(post)
    sb.world.groups.pop(group.id, None)
    return empty(204)


def save_group_as_draft(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, EDIT_POSTS)
    posts = _group_posts(sb, _group(sb, user, req.params["id"]))
    if not posts or any(p.status != PRE_DRAFT or p.author != user.id for p in posts):
        raise conflict("Only the author's preDraft posts can be saved as draft")
    for post in posts:
        _transition(sb, post, DRAFT, "savedAsDraft", user.id)
    return empty()


def schedule_group(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, PUBLISH_POSTS)
    posts = _group_posts(sb, _group(sb, user, req.params["id"]))
    if not posts or any(p.status not in CAN_SCHEDULE for p in posts):
        raise conflict("Every post of the group must be a preDraft or draft to be scheduled")
    for post in posts:
        _check_publishable(sb, post)
    for post in posts:
        post.needs_attention = False
        _transition(sb, post, SCHEDULED, "scheduled", user.id)
    return empty()


def suggest_group(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, EDIT_POSTS)
    posts = _group_posts(sb, _group(sb, user, req.params["id"]))
    if not posts or any(p.status not in CAN_SUGGEST_GROUP for p in posts):
        raise conflict("Every post of the group must be a preDraft or draft to be suggested")
    for post in posts:
        _check_publishable(sb, post)
    for post in posts:
        post.needs_attention = False
        post.suggestion_author = user.id
        _transition(sb, post, NEEDS_APPROVAL, "suggested", user.id)
    return empty()


# --- one post ---------------------------------------------------------------------------
def _patch_content(post: Post, content: object) -> dict:
    if not isinstance(content, dict):
        raise ShError(400, "content must be an object")
    merged = dict(post.content)
    for key, value in content.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    text = merged.get("text")
    if text is not None and not isinstance(text, str):
        raise ShError(400, "content.text must be a string")
    if merged.get("type") is not None and merged["type"] not in CONTENT_TYPES:
        raise ShError(400, f"content.type must be one of {', '.join(CONTENT_TYPES)}")
    for name in ("images", "videos", "animations", "links", "mentions", "inlineLinks"):
        value = merged.get(name)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, dict) for v in value)
        ):
            raise ShError(400, f"content.{name} must be an array of objects")
    if post.channel.network == "TWITTER" and len(text or "") > TWEET_LIMIT:
        raise invalid("content.text", "twitterTweetCharacterCountTooBig")
    return merged


def update_post(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, EDIT_POSTS)
    post = _post(sb, user, req.params["id"])
    body = json_body(req)
    unknown = [k for k in body if k not in WRITABLE and k not in READ_ONLY]
    if unknown:
        raise ShError(400, f"Unknown field {unknown[0]!r}")
    if post.status in LOCKED:
        raise conflict(f"Post {post.id} is {post.status} and can no longer be changed")
    changes: dict = {}
    if "content" in body:
        changes["content"] = _patch_content(post, body["content"])
    if "publishTime" in body:
        value = body["publishTime"]
        if value is None:
            if post.status in (SCHEDULED, NEEDS_APPROVAL):
                raise conflict(f"A {post.status} post needs a publishTime")
            changes["publishTime"] = None
        else:
            when = _time_ms(value, "publishTime")
            if when <= sb.now_ms():
                raise invalid("publishTime", "publishTimeNotInFuture",
                              "publishTime must be in the future")  # fmt: skip
            changes["publishTime"] = when
    if body.get("publishTimeZone") is not None:
        if not isinstance(body["publishTimeZone"], str):
            raise ShError(400, "publishTimeZone must be a string")
        changes["publishTimeZone"] = body["publishTimeZone"]
    for name in ("tags", "categories"):
        if name in body:
            if not isinstance(body[name], list):
                raise ShError(400, f"{name} must be an array")
            changes[name] = body[name]
    if "assignee" in body:
        value = body["assignee"]
        if value is not None and (not isinstance(value, str) or not OBJECT_ID.match(value)):
            raise ShError(400, "assignee must be an ObjectId")
        changes["assignee"] = value
    details: dict = {"fields": sorted(changes)}
    if "content" in changes:
        post.content = changes["content"]
    if "publishTime" in changes:
        details["from"] = post.publish_time
        sb.world.set_publish_time(post, changes["publishTime"])
        details["to"] = post.publish_time
    if "publishTimeZone" in changes:
        post.publish_time_zone = changes["publishTimeZone"]
    for name in ("tags", "categories"):
        if name in changes:
            setattr(post, name, changes[name])
    if "assignee" in changes:
        post.assignee = changes["assignee"]
    post.updated_time = sb.world.now_stamp()
    sb.world.record(post, "updated", user.id, **details)
    return ok(post.to_api())


def delete_post(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, EDIT_POSTS)
    post = _post(sb, user, req.params["id"])
    if post.status != PRE_DRAFT:
        raise conflict(f"Only preDraft posts can be deleted; post {post.id} is {post.status}")
    sb.world.remove_post(post)
    return empty(204)


def unschedule(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, PUBLISH_POSTS)
    post = _post(sb, user, req.params["id"])
    if post.status != SCHEDULED:
        raise conflict(f"Only scheduled posts can be unscheduled; post {post.id} is {post.status}")
    _transition(sb, post, DRAFT, "unscheduled", user.id)
    return ok(post.to_api())


def schedule(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, PUBLISH_POSTS)
    post = _post(sb, user, req.params["id"])
    if post.status not in CAN_SCHEDULE:
        raise conflict(f"Post {post.id} is {post.status} and cannot be scheduled")
    _check_publishable(sb, post)
    post.needs_attention = False
    _transition(sb, post, SCHEDULED, "scheduled", user.id)
    return ok(post.to_api())


def suggest(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, EDIT_POSTS)
    post = _post(sb, user, req.params["id"])
    if post.status not in CAN_SUGGEST:
        raise conflict(f"Post {post.id} is {post.status} and cannot be suggested")
    _check_publishable(sb, post)
    post.needs_attention = False
    post.suggestion_author = user.id
    _transition(sb, post, NEEDS_APPROVAL, "suggested", user.id)
    return ok(post.to_api())


def approve(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, APPROVE_POSTS)
    post = _post(sb, user, req.params["id"])
    if post.status != NEEDS_APPROVAL:
        raise conflict(f"Only posts awaiting approval can be approved; post {post.id} is "
                       f"{post.status}")  # fmt: skip
    if post.publish_ms is None:
        raise conflict(f"Post {post.id} has no publishTime")
    post.needs_attention = False
    _transition(sb, post, SCHEDULED, "approved", user.id)
    return ok(post.to_api())


def reject(sb: SocialHubSandbox, req: Request, user: User) -> Response:
    require(user, REJECT_POST)
    post = _post(sb, user, req.params["id"])
    body = json_body(req, required=False)
    message = body.get("message")
    if message is not None and (not isinstance(message, str) or not message):
        raise ShError(400, "message must be a non-empty string")
    if post.status != NEEDS_APPROVAL:
        raise conflict(f"Only posts awaiting approval can be rejected; post {post.id} is "
                       f"{post.status}")  # fmt: skip
    post.needs_attention = True
    post.assignee = post.suggestion_author
    _transition(sb, post, DRAFT, "rejected", user.id, message=message)
    return ok(post.to_api())


ROUTES = [
    ("GET", "/", me),
    ("GET", "/teams", teams),
    ("GET", "/users", users),
    ("GET", "/channels/summary", channels_summary),
    ("GET", "/cp/posts", list_posts),
    ("POST", "/cp/posts", query_posts),
    ("GET", "/cp/posts/counts", post_counts),
    ("POST", "/cp/postGroups", create_group),
    ("GET", "/cp/postGroups/preDraft", pre_draft_group),
    ("DELETE", "/cp/postGroups/{id}", delete_group),
    ("POST", "/cp/postGroups/{id}/saveAsDraft", save_group_as_draft),
    ("POST", "/cp/postGroups/{id}/schedule", schedule_group),
    ("POST", "/cp/postGroups/{id}/suggest", suggest_group),
    ("PATCH", "/cp/posts/{id}", update_post),
    ("DELETE", "/cp/posts/{id}", delete_post),
    ("POST", "/cp/posts/{id}/unschedule", unschedule),
    ("POST", "/cp/posts/{id}/schedule", schedule),
    ("POST", "/cp/posts/{id}/suggest", suggest),
    ("POST", "/cp/posts/{id}/approve", approve),
    ("POST", "/cp/posts/{id}/reject", reject),
]
