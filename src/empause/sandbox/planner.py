"""The planner: what one organization has scheduled, by day and social profile, for people.

Pure reads of the World (no HTTP): the human view renders it as HTML and serves it as
`GET /_sandbox/planner.json` for the page's own refresh. Cheap with 100,000 messages: one
walk of the send-time index over the window shown, stopped after `PLANNER_CAP` messages of
the organization (or `SCAN_LIMIT` keys of any organization).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from empause.domain.timeutil import format_time
from empause.sandbox.seed import seed_organization
from empause.sandbox.world import Member, Message, SocialProfile, World, to_ms

PLANNER_DAYS = 14  # the window shown: from LOOKBACK ago to this many days ahead
LOOKBACK = timedelta(hours=1)  # what was just sent stays in view for a while
PLANNER_CAP = 500  # messages shown at most (the soonest)
SCAN_LIMIT = 50_000  # index keys walked at most (other organizations' messages included)
RECENT_PUBLISHED = 8  # entries of the publish log shown
EXCERPT = 140  # characters of a message's text shown

NETWORKS = {
    "TWITTER": "X (Twitter)",
    "FACEBOOKPAGE": "Facebook",
    "LINKEDINCOMPANY": "LinkedIn",
    "INSTAGRAMBUSINESS": "Instagram",
    "YOUTUBECHANNEL": "YouTube",
    "THREADS": "Threads",
}
STATES = {
    "SCHEDULED": "Scheduled",
    "PENDING_APPROVAL": "Pending approval",
    "SENT": "Sent",
    "REJECTED": "Rejected",
    "SEND_FAILED_PERMANENTLY": "Failed",
}


def profile_label(profile: SocialProfile) -> str:
    return f"{NETWORKS.get(profile.type, profile.type.title())} · {profile.username}"


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Author:
    id: str
    name: str
    email: str
    emergency: bool
    needs_approval: bool

    @property
    def label(self) -> str:
        role = "emergency team" if self.emergency else "staff"
        flag = ", needs approval" if self.needs_approval else ""
        return f"{self.name} ({role}{flag})"


def authors(world: World, organization_id: str) -> list[Author]:
    """The organization's members, emergency-team members flagged."""
    team_ids = _emergency_team_ids(world)
    found = []
    for member in world.members.values():
        if member.organization_id != organization_id:
            continue
        emergency = any(
            member.id in world.teams[t].member_ids for t in team_ids if t in world.teams
        )
        found.append(_author(member, emergency))
    return found


def _author(member: Member, emergency: bool) -> Author:
    return Author(member.id, member.full_name, member.email, emergency, member.needs_approval)


def _emergency_team_ids(world: World) -> set[str]:
    return {seed_organization(i).em_team_id for i in range(len(world.organizations))}


def profiles(world: World, organization_id: str) -> list[SocialProfile]:
    return [p for p in world.profiles.values() if p.organization_id == organization_id]


def _day_label(day: datetime) -> str:
    return day.strftime("%A %d %B %Y")


def _entry(message: Message, world: World) -> dict:
    member = world.members.get(message.created_by) if message.created_by else None
    when = datetime.fromtimestamp(message.send_ms / 1000, UTC)
    return {
        "id": message.id,
        "time": when.strftime("%H:%M"),
        "scheduledSendTime": message.send_time,
        "state": message.state,
        "stateLabel": STATES.get(message.state, message.state.title()),
        "pending": message.state == "PENDING_APPROVAL",
        "author": member.full_name if member else "Organization app",
        "authorId": message.created_by,
        "text": excerpt(message.text),
    }


def planner(world: World, organization_id: str, now: datetime) -> dict:
    """The organization's messages in [now - LOOKBACK, now + PLANNER_DAYS), soonest first,
    grouped by UTC day, then by social profile (in the organization's profile order)."""
    start = now - LOOKBACK
    end = now + timedelta(days=PLANNER_DAYS)
    org_profiles = profiles(world, organization_id)
    order = {p.id: i for i, p in enumerate(org_profiles)}
    by_id = {p.id: p for p in org_profiles}
    chosen: list[Message] = []
    scanned = 0
    truncated = False
    for message in world.window(to_ms(start), to_ms(end)):
        scanned += 1
        if message.organization_id == organization_id:
            if len(chosen) == PLANNER_CAP:
                truncated = True
                break
            chosen.append(message)
        if scanned >= SCAN_LIMIT:
            truncated = True
            break
    days: dict[str, dict] = {}
    counts = {"SCHEDULED": 0, "PENDING_APPROVAL": 0, "SENT": 0, "other": 0}
    for message in chosen:
        counts[message.state if message.state in counts else "other"] += 1
        when = datetime.fromtimestamp(message.send_ms / 1000, UTC)
        key = when.strftime("%Y-%m-%d")
        day = days.setdefault(key, {"date": key, "label": _day_label(when), "profiles": {}})
        group = day["profiles"].get(message.profile_id)
        if group is None:
            profile = by_id.get(message.profile_id)
            group = day["profiles"][message.profile_id] = {
                "id": message.profile_id,
                "label": profile_label(profile) if profile else message.profile_id,
                "messages": [],
            }
        group["messages"].append(_entry(message, world))
    for day in days.values():
        groups = sorted(day["profiles"].values(), key=lambda g: order.get(g["id"], len(order)))
        day["profiles"] = groups
        day["count"] = sum(len(g["messages"]) for g in groups)
    published = [
        {
            "id": p["message_id"],
            "publishedAt": p["published_at"],
            "profile": profile_label(by_id[p["social_profile_id"]])
            if p["social_profile_id"] in by_id
            else p["social_profile_id"],
            "text": excerpt(p["text"]),
        }
        for p in _recent_published(world, by_id)
    ]
    organization = world.organizations[organization_id]
    summary = (
        f"{len(chosen)} message{'s' * (len(chosen) != 1)} from {start:%d %b %H:%M} to "
        f"{end:%d %b %H:%M} UTC: {counts['SCHEDULED']} scheduled, "
        f"{counts['PENDING_APPROVAL']} pending approval, {counts['SENT']} sent"
        + (f"; only the first {len(chosen)} are shown" if truncated else "")
        + "."
    )
    return {
        "summary": summary,
        "now": format_time(now),
        "organization": {"id": organization.id, "name": organization.name},
        "start": format_time(start),
        "end": format_time(end),
        "days": list(days.values()),
        "counts": counts,
        "shown": len(chosen),
        "cap": PLANNER_CAP,
        "truncated": truncated,
        "published": published,
    }


def _recent_published(world: World, profile_ids: dict) -> list[dict]:
    """The last RECENT_PUBLISHED publications on the organization's profiles, newest first."""
    found: list[dict] = []
    for scanned, entry in enumerate(reversed(world.published)):
        if scanned == SCAN_LIMIT:
            break
        if entry["social_profile_id"] in profile_ids:
            found.append(entry)
            if len(found) == RECENT_PUBLISHED:
                break
    return found
