"""Keeping a sandbox's world on disk, so a demo stopped and started again finds it as it was.

Written through: the app (`SandboxApp`) saves after every request that may change the world
and after every publisher tick that sent something, *before* the response leaves (requests
finishing while a write is under way share the next one: a group commit). So the
file is never behind what a client was told: a process killed at any point restarts with
everything the app saw done (at worst, one change the app never heard of, which it already
treats as an ambiguous call and checks before acting again). Atomic (a temporary file
renamed over the old one). Not fsync'd: it survives the process, which is what a demo needs.

Kept: the world (organizations, members, teams, profiles, every message with its history,
the publish log, the next id), the clock, tokens (so signed-in members and the app's stored
refresh tokens keep working) and the webhook `seq_no` counters. Not kept: faults, rate
windows, queued webhook deliveries and the dashboard's own sign-ins.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from empause.sandbox.world import Member, Message, Organization, SocialProfile, Team, Token

if TYPE_CHECKING:
    from empause.sandbox.state import Grant, Sandbox

FORMAT = 1  # bump when the shape changes; another version is refused, not misread


class StateFileError(RuntimeError):
    """The state file cannot be read as a sandbox of this version."""


@functools.cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _fields(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in _names(type(value))}


def snapshot(sb: Sandbox) -> dict[str, Any]:
    """Everything `restore` needs, as JSON-ready data."""
    world = sb.world
    clock = sb.clock
    teams = []
    for team in world.teams.values():
        data = _fields(team)
        data["member_ids"] = sorted(team.member_ids)
        teams.append(data)
    return {
        "format": FORMAT,
        "saved_at": datetime.now(UTC).isoformat(),
        "organizations_seeded": sb.organizations,
        "clock": {
            "offset_seconds": clock._offset.total_seconds(),
            "frozen_at": clock._frozen_at.isoformat() if clock._frozen_at else None,
        },
        "world": {
            "organizations": [_fields(o) for o in world.organizations.values()],
            "members": [_fields(m) for m in world.members.values()],
            "teams": teams,
            "profiles": [_fields(p) for p in world.profiles.values()],
            "messages": [_fields(m) for m in world.messages.values()],
            "published": world.published,
            "next_num": world.next_num,
            "app_installs": sorted(world.app_installs),
        },
        "tokens": {
            "access": [_fields(t) for t in sb.tokens.access.values()],
            "refresh": {k: _fields(g) for k, g in sb.tokens.refresh.items()},
            "codes": {k: _fields(g) for k, g in sb.tokens.codes.items()},
            "families_revoked": sorted(sb.tokens.families_revoked),
        },
        "webhook_seq_no": {url: r.seq_no for url, r in sb.webhooks.receivers.items()},
    }


def restore(sb: Sandbox, data: dict[str, Any]) -> None:
    """Replace `sb`'s world, clock, tokens and webhook counters with a snapshot's."""
    from empause.sandbox.state import Grant
    from empause.sandbox.webhooks import Receiver

    if data.get("format") != FORMAT:
        raise StateFileError(f"sandbox state format {data.get('format')!r}, expected {FORMAT}")
    sb.reset(organizations=int(data.get("organizations_seeded", 1)), messages=0)
    clock = data["clock"]
    sb.clock._offset = timedelta(seconds=float(clock["offset_seconds"]))
    frozen = clock.get("frozen_at")
    sb.clock._frozen_at = datetime.fromisoformat(frozen) if frozen else None
    world = sb.world
    stored = data["world"]
    world.organizations = {o["id"]: Organization(**o) for o in stored["organizations"]}
    world.members = {m["id"]: Member(**m) for m in stored["members"]}
    world.teams = {}
    for team in stored["teams"]:
        world.teams[team["id"]] = Team(**{**team, "member_ids": set(team["member_ids"])})
    world.profiles = {p["id"]: SocialProfile(**p) for p in stored["profiles"]}
    world.messages.clear()
    world.by_num.clear()
    world.index.clear()
    world.due.clear()
    for message in stored["messages"]:
        world.add_message(Message(**message))
    world.published = list(stored["published"])
    world.next_num = int(stored["next_num"])
    world.app_installs = set(stored["app_installs"])
    tokens = data["tokens"]
    sb.tokens.access = {t["access_token"]: Token(**t) for t in tokens["access"]}
    sb.tokens.refresh = {k: _grant(Grant, g) for k, g in tokens["refresh"].items()}
    sb.tokens.codes = {k: _grant(Grant, g) for k, g in tokens["codes"].items()}
    sb.tokens.families_revoked = set(tokens["families_revoked"])
    for url, seq_no in data.get("webhook_seq_no", {}).items():
        sb.webhooks.receivers[url] = Receiver(url, seq_no=int(seq_no))


def _grant(cls: type[Grant], data: dict[str, Any]) -> Grant:
    return cls(**data)


class StateFile:
    """One sandbox's state file: `load` at start, `save` after every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saves = 0

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self, sb: Sandbox) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateFileError(f"cannot read {self.path}: {exc}") from exc
        try:
            restore(sb, data)
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(f"{self.path} is not a sandbox state: {exc!r}") from exc

    def save(self, sb: Sandbox) -> None:
        self.write(self.encode(sb))

    @staticmethod
    def encode(sb: Sandbox) -> str:
        """The snapshot as text (in the sandbox's loop: the world must not change meanwhile)."""
        return json.dumps(snapshot(sb), separators=(",", ":"))

    def write(self, text: str) -> None:
        """Atomically replace the file (safe from a thread: touches no sandbox state)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.path)
        self.saves += 1

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
