"""The SocialHub demo world: account "Sandbox County" with an Emergency Management team
(em@example.org) and a staff team (staff@example.org), channels, and posts spread over the
coming weeks, some needing approval.

Deterministic for a given `rng`: same ids, texts, contents and relative publish times.
Access tokens are fixed per user (SocialHub's are long-lived API tokens), so the printed
demo credentials stay valid across resets.
"""

from __future__ import annotations

import random
from datetime import timedelta

from empause.sandbox.socialhub.world import (
    DRAFT,
    NEEDS_APPROVAL,
    PUBLISHED,
    SCHEDULED,
    Account,
    Channel,
    Post,
    PostGroup,
    Team,
    User,
    World,
    object_id,
    to_ms,
)
from empause.sandbox.world import format_time_ms

ACCOUNT_ID = object_id(1)
ACCOUNT_NAME = "Sandbox County"
ADMIN_USER_ID = object_id(11)
EM_USER_ID = object_id(12)
STAFF_USER_ID = object_id(13)
ADMIN_EMAIL = "admin@example.org"
EM_EMAIL = "em@example.org"
STAFF_EMAIL = "staff@example.org"
# The account's API token (its admin user's): what the app is configured with.
ACCOUNT_TOKEN = "sh-demo-account-token-admin-0001"
EM_TOKEN = "sh-demo-user-token-em-0002"
STAFF_TOKEN = "sh-demo-user-token-staff-0003"
EM_TEAM_ID = object_id(21)
STAFF_TEAM_ID = object_id(22)

FACEBOOK_CHANNEL_ID = object_id(31)
TWITTER_CHANNEL_ID = object_id(32)
INSTAGRAM_CHANNEL_ID = object_id(33)
PINTEREST_CHANNEL_ID = object_id(34)
CHANNELS = (
    (FACEBOOK_CHANNEL_ID, "Sandbox County", "sandboxcounty", "FACEBOOK"),
    (TWITTER_CHANNEL_ID, "Sandbox County", "@sandboxcounty", "TWITTER"),
    (INSTAGRAM_CHANNEL_ID, "sandbox.county", "sandbox.county", "INSTAGRAM_BUSINESS"),
    (PINTEREST_CHANNEL_ID, "Sandbox County", "sandboxcounty-pins", "PINTEREST"),
)
CHANNEL_IDS = [c[0] for c in CHANNELS]
STAFF_CHANNEL_IDS = [FACEBOOK_CHANNEL_ID, TWITTER_CHANNEL_ID, INSTAGRAM_CHANNEL_ID]

SEEDS = ("demo",)

_TOPICS = [
    "Farmers market opens Saturday at 9am",
    "Library summer reading kick-off",
    "Road resurfacing on Main St next week",
    "Free flu shots at the community centre",
    "Meet the new parks crew",
    "Recycling pickup moves to Thursday",
    "Youth soccer registration is open",
    "Council meeting livestream tonight",
    "Beach clean-up volunteers wanted",
    "New bike lanes on 5th Avenue",
]


def build_directory(world: World) -> None:
    """The account, its users (each with an API token), teams and channels."""
    world.accounts[ACCOUNT_ID] = Account(ACCOUNT_ID, ACCOUNT_NAME)
    for user in (
        User(ADMIN_USER_ID, ACCOUNT_ID, ADMIN_EMAIL, "Avery", "Admin", "ADMIN", ACCOUNT_TOKEN),
        User(EM_USER_ID, ACCOUNT_ID, EM_EMAIL, "Emery", "Manager", "SMM", EM_TOKEN),
        User(STAFF_USER_ID, ACCOUNT_ID, STAFF_EMAIL, "Sam", "Staff", "EDITOR", STAFF_TOKEN),
    ):
        world.add_user(user)
    for cid, name, unique, network in CHANNELS:
        world.channels[cid] = Channel(cid, ACCOUNT_ID, name, unique, network)
    world.teams[EM_TEAM_ID] = Team(
        EM_TEAM_ID, ACCOUNT_ID, "Emergency Management", [EM_USER_ID, ADMIN_USER_ID],
        list(CHANNEL_IDS), [ADMIN_USER_ID],
    )  # fmt: skip
    world.teams[STAFF_TEAM_ID] = Team(
        STAFF_TEAM_ID, ACCOUNT_ID, "Staff", [STAFF_USER_ID], list(STAFF_CHANNEL_IDS),
        [ADMIN_USER_ID],
    )  # fmt: skip


def _content(r: random.Random, i: int, network: str) -> dict:
    """Rich content on some posts, so 'no loss' has something to lose."""
    content: dict = {"type": "TWEET" if network == "TWITTER" else "POST",
                     "text": f"{_TOPICS[i % len(_TOPICS)]} ({i + 1})"}  # fmt: skip
    if i % 7 == 1:
        content["images"] = [{"id": object_id(900_000 + i), "index": 0,
                              "altText": f"photo {i}"}]  # fmt: skip
    if i % 5 == 2:
        content["links"] = [{"id": object_id(800_000 + i), "canCustomize": True,
                             "customTitle": "More information"}]  # fmt: skip
    if i % 4 == 3 and network != "TWITTER":
        content["firstComment"] = "Details on our website."
    if i % 9 == 0:
        content["location"] = {"id": str(r.randrange(10**9)), "name": "Sandbox County Hall"}
    return content


def build_demo(world: World, posts: int = 300, rng: int = 7) -> None:
    """The directory plus `posts` scheduled posts over 30 days, some needing approval (due
    within 14 days), a few drafts, and some already published."""
    build_directory(world)
    r = random.Random(rng)
    now = world.clock.now().replace(second=0, microsecond=0)
    extras = 0 if posts == 0 else max(2, posts // 50)
    created = format_time_ms(now - timedelta(days=2))
    authors = [STAFF_USER_ID, EM_USER_ID, ADMIN_USER_ID]
    plan = [(SCHEDULED, now + timedelta(minutes=r.randint(5, 30 * 24 * 60)))
            for _ in range(posts)]  # fmt: skip
    plan += [(NEEDS_APPROVAL, now + timedelta(minutes=r.randint(60, 14 * 24 * 60)))
             for _ in range(extras)]  # fmt: skip
    plan += [(DRAFT, now + timedelta(minutes=r.randint(60, 14 * 24 * 60)))
             for _ in range(extras)]  # fmt: skip
    plan += [(PUBLISHED, now - timedelta(minutes=r.randint(60, 7 * 24 * 60)))
             for _ in range(extras)]  # fmt: skip
    timed, due = [], []
    for i, (status, when) in enumerate(plan):
        author = STAFF_USER_ID if status == NEEDS_APPROVAL else authors[i % 3]
        channel_ids = STAFF_CHANNEL_IDS if author == STAFF_USER_ID else CHANNEL_IDS
        channel = world.channels[channel_ids[r.randrange(len(channel_ids))]]
        post_id, num = world.new_id()
        group_id, _ = world.new_id()
        world.groups[group_id] = PostGroup(group_id, ACCOUNT_ID, author, [post_id])
        post = Post(
            id=post_id, num=num, account_id=ACCOUNT_ID, group_id=group_id, channel=channel,
            status=status, author=author, content=_content(r, i, channel.network),
            created_time=created, publish_ms=to_ms(when), publish_time_zone="Europe/Berlin",
            tags=[{"_id": object_id(700_000 + i % 3), "name": ["events", "roads", "parks"][i % 3]}]
            if i % 3 == 0 else [],
        )  # fmt: skip
        if author == STAFF_USER_ID and status in (SCHEDULED, NEEDS_APPROVAL):
            post.suggestion_author = STAFF_USER_ID
        post.history.append({"action": "created", "actor": author, "time": created})
        if status == PUBLISHED:
            post.network_url = f"https://example.org/{channel.unique_name}/posts/{num}"
        world.posts[post_id] = post
        world.by_num[num] = post
        timed.append(post.key)
        if status == SCHEDULED:
            due.append(post.key)
    world.timed.update(timed)
    world.due.update(due)
