"""Engine tests: the real sandbox over HTTP, a real migrated database, the real adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from empause.config import Settings, default_organization
from empause.domain.timeutil import parse_time
from empause.engine.service import Engine
from empause.platforms.hootsuite.adapter import HootsuitePlatform
from empause.platforms.ratelimit import reset_registry
from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, EM_TEAM_ID, ORG_ID

FAST_RATE = 200  # requests/s: behaviour tests need not wait at Hootsuite's 20/s

# Every field a re-created message must keep (invariant 1: no loss).
COMPARED = (
    "text", "socialProfile", "media", "mediaUrls", "tags", "targeting", "privacy",
    "location", "webhookUrls", "emailNotification", "extendedInfo",
)  # fmt: skip


def settings_for(sandbox: Any, database_url: str, **overrides: Any) -> Settings:
    return Settings(
        database_url=database_url,
        hootsuite_base_url=sandbox.base_url,
        hootsuite_client_id=CLIENT_ID,
        hootsuite_client_secret=CLIENT_SECRET,
        organization_id=ORG_ID,
        emergency_team_id=EM_TEAM_ID,
        rate_limit=overrides.pop("rate_limit", FAST_RATE),
        **overrides,
    )


@pytest.fixture
def fast_sandbox(sandbox: Any) -> Any:
    sandbox.control.faults(rate_limit=FAST_RATE)
    return sandbox


@pytest.fixture
async def platform(fast_sandbox: Any) -> AsyncIterator[HootsuitePlatform]:
    reset_registry()
    hootsuite = HootsuitePlatform(
        fast_sandbox.base_url, CLIENT_ID, CLIENT_SECRET, ORG_ID, rate_limit=FAST_RATE, timeout=3.0
    )
    yield hootsuite
    await hootsuite.aclose()
    reset_registry()


def sandbox_clock(sandbox: Any):
    """The engine's notion of now follows the sandbox clock (which tests move)."""
    return lambda: sandbox.sandbox.clock.now()


@pytest.fixture
def engine(db: Any, platform: HootsuitePlatform, fast_sandbox: Any) -> Engine:
    return Engine(
        db, platform, default_organization(settings_for(fast_sandbox, db.url)), clock=sandbox_clock(fast_sandbox)
    )


def state(sandbox: Any) -> dict[str, Any]:
    return sandbox.control.state()


def messages_by_id(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in snapshot["messages"]}


def in_window(
    snapshot: dict[str, Any], start: datetime, end: datetime, state: str = "SCHEDULED"
) -> dict[str, dict[str, Any]]:
    return {
        m["id"]: m
        for m in snapshot["messages"]
        if m["state"] == state and start <= parse_time(m["scheduledSendTime"]) < end
    }


def live(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in snapshot["messages"] if m["state"] not in ("DELETED", "REJECTED")]


def same_fields(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Names of the compared fields that differ (empty: identical)."""
    differ = []
    for key in COMPARED:
        left, right = a.get(key), b.get(key)
        if key == "socialProfile":
            left, right = (left or {}).get("id"), (right or {}).get("id")
        if key == "media":
            left = [{"id": x.get("id")} for x in left or []] or None
            right = [{"id": x.get("id")} for x in right or []] or None
        if left != right:
            differ.append(key)
    return differ


def copies_of(snapshot: dict[str, Any], original: dict[str, Any], when: datetime) -> list[dict]:
    """Live messages that are copies of `original` at `when`."""
    return [
        m
        for m in live(snapshot)
        if m["id"] != original["id"]
        and parse_time(m["scheduledSendTime"]) == when
        and not same_fields(m, original)
    ]


WEEK = timedelta(days=7)
