"""The demo world: organization 832420 with its Emergency Management team (seeds/000).

Deterministic for a given `rng`: same ids, texts, fields and relative send times.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from empause.domain.timeutil import format_time
from empause.sandbox.world import (
    Member,
    Message,
    Organization,
    SocialProfile,
    Team,
    World,
    format_time_ms,
)

ORG_ID = "832420"
ORG_NAME = "Sandbox County"
EM_TEAM_ID = "501006"
MARKETING_TEAM_ID = "501007"
ADMIN_MEMBER_ID = "19000001"
EM_MEMBER_ID = "19000002"
STAFF_MEMBER_ID = "19000003"
ADMIN_EMAIL = "admin@example.org"
EM_EMAIL = "em@example.org"
STAFF_EMAIL = "staff@example.org"
DEMO_PASSWORD = "demo"
CLIENT_ID = "empause-demo"
# The demo app's callbacks, registered for CLIENT_ID like an app's Security settings; a test
# or a demo on another port registers its own through POST /_sandbox/redirect-uris.
DEMO_REDIRECT_URIS = (
    "http://127.0.0.1:8000/auth/callback",
    "http://localhost:8000/auth/callback",
)
CLIENT_SECRET = "empause-demo-secret"

TWITTER_PROFILE_ID = "115185501"
FACEBOOK_PROFILE_ID = "115185502"
LINKEDIN_PROFILE_ID = "115185503"
INSTAGRAM_PROFILE_ID = "115185504"
THREADS_PROFILE_ID = "115185505"
PROFILES = [
    (TWITTER_PROFILE_ID, "TWITTER", "sandboxcounty"),
    (FACEBOOK_PROFILE_ID, "FACEBOOKPAGE", "SandboxCounty"),
    (LINKEDIN_PROFILE_ID, "LINKEDINCOMPANY", "sandbox-county"),
    (INSTAGRAM_PROFILE_ID, "INSTAGRAMBUSINESS", "sandbox.county"),
    (THREADS_PROFILE_ID, "THREADS", "sandbox.county"),
]
PROFILE_IDS = [p[0] for p in PROFILES]
MARKETING_PROFILE_IDS = [FACEBOOK_PROFILE_ID, INSTAGRAM_PROFILE_ID, TWITTER_PROFILE_ID]

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


def _fields(rng: random.Random, i: int, profile_type: str) -> dict:
    """Rich optional fields on some messages, so 'no loss' has something to lose."""
    extra: dict = {}
    kind = i % 7
    if kind == 1:
        extra["mediaUrls"] = [{"url": f"http://static.ow.ly/photos/normal/sb{i}.jpg"}]
    elif kind == 2:
        extra["media"] = [{"id": f"bWVkaWEt{i:06d}"}]
    if i % 3 == 0:
        extra["tags"] = rng.sample(["community", "events", "parks", "roads", "health"], 2)
    if profile_type == "FACEBOOKPAGE" and i % 4 == 1:
        extra["targeting"] = {
            "facebookPage": {"ageMin": 18, "countries": [{"k": "Canada", "v": "CA"}]}
        }
        extra["privacy"] = {"facebook": {"visibility": ["everyone"]}}
    if profile_type == "LINKEDINCOMPANY" and i % 4 == 2:
        extra["privacy"] = {"linkedIn": {"visibility": ["anyone"]}}
    if i % 5 == 0:
        extra["location"] = {
            "latitude": round(49.0 + rng.random(), 5),
            "longitude": round(-123.5 + rng.random(), 5),
        }
    if i % 6 == 0:
        extra["webhookUrls"] = ["https://hooks.example.org/hootsuite/messages"]
    if i % 8 == 0:
        extra["emailNotification"] = True
    return extra


def build_demo(world: World, messages: int = 300, rng: int = 7) -> None:
    """Populate `world` with the demo organization and `messages` SCHEDULED messages."""
    r = random.Random(rng)
    world.organizations[ORG_ID] = Organization(ORG_ID, ORG_NAME)
    for member in (
        Member(ADMIN_MEMBER_ID, ADMIN_EMAIL, "Avery Admin", DEMO_PASSWORD, ORG_ID, is_admin=True),
        Member(EM_MEMBER_ID, EM_EMAIL, "Emery Manager", DEMO_PASSWORD, ORG_ID),
        Member(STAFF_MEMBER_ID, STAFF_EMAIL, "Sam Staff", DEMO_PASSWORD, ORG_ID, needs_approval=True),
    ):
        world.members[member.id] = member
        world.app_installs.add(f"member:{member.id}")
    world.app_installs.add(f"organization:{ORG_ID}")
    for pid, ptype, username in PROFILES:
        world.profiles[pid] = SocialProfile(pid, ptype, username, str(int(pid) * 7), ORG_ID)
    world.teams[EM_TEAM_ID] = Team(
        EM_TEAM_ID, "Emergency Management", ORG_ID, {EM_MEMBER_ID, ADMIN_MEMBER_ID},
        list(PROFILE_IDS), ADMIN_MEMBER_ID,
    )
    world.teams[MARKETING_TEAM_ID] = Team(
        MARKETING_TEAM_ID, "Marketing", ORG_ID, {STAFF_MEMBER_ID, ADMIN_MEMBER_ID},
        list(MARKETING_PROFILE_IDS), ADMIN_MEMBER_ID,
    )
    _seed_messages(world, r, messages)


def _seed_messages(world: World, r: random.Random, count: int) -> None:
    now = world.clock.now().replace(second=0, microsecond=0)
    extras = 0 if count == 0 else max(2, count // 50)
    authors = [STAFF_MEMBER_ID, EM_MEMBER_ID, ADMIN_MEMBER_ID]
    created = now - timedelta(days=2)
    created_at, created_stamp = format_time(created), format_time_ms(created)
    plan: list[tuple[str, datetime]] = []
    for _ in range(count):
        plan.append(("SCHEDULED", now + timedelta(minutes=r.randint(5, 30 * 24 * 60))))
    for _ in range(extras):
        plan.append(("PENDING_APPROVAL", now + timedelta(minutes=r.randint(60, 14 * 24 * 60))))
    for _ in range(extras):
        plan.append(("SENT", now - timedelta(minutes=r.randint(60, 7 * 24 * 60))))
    messages = world.messages
    by_num = world.by_num
    index_keys = []
    due_keys = []
    for i, (state, when) in enumerate(plan):
        pid = PROFILE_IDS[r.randrange(len(PROFILE_IDS))]
        profile = world.profiles[pid]
        num = world.new_id()
        author = STAFF_MEMBER_ID if state == "PENDING_APPROVAL" else authors[i % 3]
        send_ms = int(when.timestamp()) * 1000
        message = Message(
            id=str(num),
            num=num,
            state=state,
            text=f"{_TOPICS[i % len(_TOPICS)]} ({i + 1})",
            profile_id=pid,
            organization_id=ORG_ID,
            send_ms=send_ms,
            send_time=format_time(when),
            extra=_fields(r, i, profile.type),
            created_by=author,
            created_at=created_at,
        )
        message.history.append(
            {"actorType": "MEMBER", "actorId": author, "actionType": "CREATE",
             "timestamp": created_stamp}
        )
        if state == "PENDING_APPROVAL":
            message.sequence_number = 1
            message.reviewers = [{"id": ADMIN_MEMBER_ID, "type": "ADMIN_AND_EDITOR"}]
        elif state == "SENT":
            message.set_post(profile)
            message.history.append(
                {"actorType": "SYSTEM", "actorId": "0", "actionType": "SEND",
                 "timestamp": format_time_ms(when)}
            )
        messages[message.id] = message
        by_num[num] = message
        index_keys.append((send_ms, num))
        if state == "SCHEDULED":
            due_keys.append((send_ms, num))
    world.index.update(index_keys)
    world.due.update(due_keys)
