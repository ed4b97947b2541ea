"""The demo world: organization 832420 with its Emergency Management team (seeds/000).

Deterministic for a given `rng`: same ids, texts, fields and relative send times.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
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
ID_STRIDE = 1000  # organization n's ids are the first one's plus n * ID_STRIDE
MAX_ORGANIZATIONS = 1000  # keeps every seeded id distinct


@dataclass(frozen=True, slots=True)
class SeedOrganization:
    """One seeded organization: the first is the plan's (832420, team 501006); the others
    get the same shape with their own ids, emails, profiles, app install and rate budget."""

    index: int
    id: str
    name: str
    em_team_id: str
    marketing_team_id: str
    admin: tuple[str, str]  # (member id, email)
    em: tuple[str, str]
    staff: tuple[str, str]
    profiles: tuple[tuple[str, str, str], ...]  # (id, type, username)

    @property
    def profile_ids(self) -> list[str]:
        return [p[0] for p in self.profiles]

    @property
    def marketing_profile_ids(self) -> list[str]:
        by_type = {t: pid for pid, t, _ in self.profiles}
        return [by_type["FACEBOOKPAGE"], by_type["INSTAGRAMBUSINESS"], by_type["TWITTER"]]


def seed_organization(index: int) -> SeedOrganization:
    if index == 0:
        return SeedOrganization(
            0, ORG_ID, ORG_NAME, EM_TEAM_ID, MARKETING_TEAM_ID, (ADMIN_MEMBER_ID, ADMIN_EMAIL),
            (EM_MEMBER_ID, EM_EMAIL), (STAFF_MEMBER_ID, STAFF_EMAIL), tuple(PROFILES),
        )  # fmt: skip

    def shifted(value: str) -> str:
        return str(int(value) + index * ID_STRIDE)

    def email(address: str) -> str:
        user, _, domain = address.partition("@")
        return f"{user}@org{index + 1}.{domain}"

    return SeedOrganization(
        index, shifted(ORG_ID), f"Sandbox Town {index + 1}", shifted(EM_TEAM_ID),
        shifted(MARKETING_TEAM_ID), (shifted(ADMIN_MEMBER_ID), email(ADMIN_EMAIL)),
        (shifted(EM_MEMBER_ID), email(EM_EMAIL)), (shifted(STAFF_MEMBER_ID), email(STAFF_EMAIL)),
        tuple((shifted(pid), kind, f"{name}{index + 1}") for pid, kind, name in PROFILES),
    )  # fmt: skip

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


def build_demo(world: World, messages: int = 300, rng: int = 7, organizations: int = 1) -> None:
    """Populate `world` with `organizations` organizations, each with `messages` SCHEDULED
    messages (the first is the plan's organization, exactly as with one)."""
    r = random.Random(rng)
    for index in range(organizations):
        org = seed_organization(index)
        _build_organization(world, org)
        _seed_messages(world, r, messages, org)


def _build_organization(world: World, org: SeedOrganization) -> None:
    world.organizations[org.id] = Organization(org.id, org.name)
    (admin_id, admin_email), (em_id, em_email), (staff_id, staff_email) = (
        org.admin, org.em, org.staff,
    )  # fmt: skip
    for member in (
        Member(admin_id, admin_email, "Avery Admin", DEMO_PASSWORD, org.id, is_admin=True),
        Member(em_id, em_email, "Emery Manager", DEMO_PASSWORD, org.id),
        Member(staff_id, staff_email, "Sam Staff", DEMO_PASSWORD, org.id, needs_approval=True),
    ):
        world.members[member.id] = member
        world.app_installs.add(f"member:{member.id}")
    world.app_installs.add(f"organization:{org.id}")
    for pid, ptype, username in org.profiles:
        world.profiles[pid] = SocialProfile(pid, ptype, username, str(int(pid) * 7), org.id)
    world.teams[org.em_team_id] = Team(
        org.em_team_id, "Emergency Management", org.id, {em_id, admin_id},
        org.profile_ids, admin_id,
    )  # fmt: skip
    world.teams[org.marketing_team_id] = Team(
        org.marketing_team_id, "Marketing", org.id, {staff_id, admin_id},
        org.marketing_profile_ids, admin_id,
    )  # fmt: skip


def _seed_messages(world: World, r: random.Random, count: int, org: SeedOrganization) -> None:
    now = world.clock.now().replace(second=0, microsecond=0)
    extras = 0 if count == 0 else max(2, count // 50)
    authors = [org.staff[0], org.em[0], org.admin[0]]
    profile_ids = org.profile_ids
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
        pid = profile_ids[r.randrange(len(profile_ids))]
        profile = world.profiles[pid]
        num = world.new_id()
        author = org.staff[0] if state == "PENDING_APPROVAL" else authors[i % 3]
        send_ms = int(when.timestamp()) * 1000
        message = Message(
            id=str(num),
            num=num,
            state=state,
            text=f"{_TOPICS[i % len(_TOPICS)]} ({i + 1})",
            profile_id=pid,
            organization_id=org.id,
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
            message.reviewers = [{"id": org.admin[0], "type": "ADMIN_AND_EDITOR"}]
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
