"""A webhook flood cannot delay enforcement: the fast sweep catches what becomes due while
paused without any webhook; forged events never queue on the organization's lock; events
for one message collapse into one upstream read."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest

from empause.config import default_organization
from empause.domain.timeutil import format_time, parse_time
from empause.engine.lock import OrganizationLock
from empause.engine.service import Engine
from empause.platforms.hootsuite.adapter import HootsuitePlatform
from empause.sandbox.seed import ORG_ID, PROFILE_IDS, STAFF_MEMBER_ID
from empause.store.db import Database
from tests.fixtures.app import WEBHOOK_SECRET
from tests.web.helpers import api_status, create_api_key, settled, signed_in, wait_for

FAST_SWEEP_BOUND = 10.0  # seconds; the sweep runs every second, the rest is test slack


@pytest.fixture
def app_overrides():
    return {"rate_limit": 1000.0}


def paused(app_server) -> str:
    from empause.sandbox import seed

    key = create_api_key(signed_in(app_server.base_url, seed.EM_EMAIL))
    answer = httpx.post(
        f"{app_server.base_url}/api/pause", json={"reason": "storm"},
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    assert answer.status_code == 202
    wait_for(lambda: (s := api_status(app_server.base_url, key))["paused"] and settled(s))
    return key


def staff_post(sandbox, ahead: timedelta) -> dict:
    """A staff member publishes directly (no approval), due `ahead` of the sandbox clock."""
    sandbox.control.set_member(STAFF_MEMBER_ID, needs_approval=False)
    now = parse_time(sandbox.control.state()["now"])
    return sandbox.control.create_message(
        sandbox.control.token(member_id=STAFF_MEMBER_ID), text="staff: bake sale at noon",
        socialProfileIds=[PROFILE_IDS[0]], scheduledSendTime=format_time(now + ahead),
    )  # fmt: skip


def state_of(sandbox, message_id: str) -> str:
    return next(m["state"] for m in sandbox.control.state()["messages"] if m["id"] == message_id)


def test_the_fast_sweep_moves_a_staff_post_due_soon_without_any_webhook(small_sandbox, app_server):
    paused(app_server)
    post = staff_post(small_sandbox, timedelta(seconds=90))  # no webhook is registered
    started = time.monotonic()
    wait_for(lambda: state_of(small_sandbox, post["id"]) == "DELETED", timeout=FAST_SWEEP_BOUND)
    assert time.monotonic() - started < FAST_SWEEP_BOUND
    small_sandbox.control.clock(advance_seconds=120)
    published = [p["message_id"] for p in small_sandbox.control.state()["published"]]
    assert post["id"] not in published


async def test_forged_events_never_wait_for_the_organization_lock(small_sandbox, app_server):
    await asyncio.to_thread(paused, app_server)
    settings = app_server.settings
    db = Database(settings.database_url)
    platform = HootsuitePlatform.from_settings(settings)
    engine = Engine(db, platform, default_organization(settings), lock_timeout=1.0)
    try:
        async with OrganizationLock(db, ORG_ID, timeout=5):
            # Someone holds the lock (a pause, a sweep): forged and harmless events are
            # decided anyway, at once, from one read of the platform.
            for forged in ("999999999991", "999999999992", "999999999993"):
                assert await engine.enforce_message(forged) == "gone"
    finally:
        await platform.aclose()
        await db.dispose()


def test_events_for_one_message_collapse_into_one_read(small_sandbox, app_server):
    url = f"{app_server.base_url}/webhooks/hootsuite/{WEBHOOK_SECRET}"
    before = small_sandbox.control.state()["calls"]
    events = [
        {
            "seq_no": str(n), "type": "com.hootsuite.messages.event.v1",
            "data": {"state": "PENDING_APPROVAL", "organization": {"id": ORG_ID},
                     "message": {"id": "424242424242"}},
        }
        for n in range(50)
    ]  # fmt: skip
    assert httpx.post(url, json=events).status_code == 200

    def settled_inbox() -> bool:
        rows = asyncio.run(_inbox_counts(app_server))
        return rows.get("pending", 0) == 0 and rows.get("done", 0) == 50

    wait_for(settled_inbox, timeout=20)
    after = small_sandbox.control.state()["calls"]
    reads = sum(after.get(k, 0) - before.get(k, 0) for k in after if "GET /v1/messages/" in k)
    assert reads <= 1, after


async def _inbox_counts(app_server) -> dict[str, int]:
    from empause.prescreen import inbox
    from empause.store.db import Database

    db = Database(app_server.settings.database_url)
    try:
        return await inbox.counts(db)
    finally:
        await db.dispose()


def test_inbox_work_is_ordered_by_due_time_not_arrival(small_sandbox, app_server):
    """300 forged events arrive first; the genuine one, for a message awaiting approval, is
    decided while most of them still wait (arrival order would put it last)."""
    paused(app_server)
    small_sandbox.control.faults(latency_ms=100)  # each forged id costs a slow read
    small_sandbox.control.set_member(STAFF_MEMBER_ID, needs_approval=True)
    now = parse_time(small_sandbox.control.state()["now"])
    genuine = small_sandbox.control.create_message(
        small_sandbox.control.token(member_id=STAFF_MEMBER_ID), text="staff: please approve",
        socialProfileIds=[PROFILE_IDS[0]], scheduledSendTime=format_time(now + timedelta(hours=3)),
    )  # fmt: skip

    def event(message_id: str, n: int) -> dict:
        return {
            "seq_no": str(n), "type": "com.hootsuite.messages.event.v1",
            "data": {"state": "PENDING_APPROVAL", "organization": {"id": ORG_ID},
                     "message": {"id": message_id}},
        }  # fmt: skip

    url = f"{app_server.base_url}/webhooks/hootsuite/{WEBHOOK_SECRET}"
    forged = [event(str(800_000_000_000 + n), n) for n in range(300)]
    assert httpx.post(url, json=forged).status_code == 200
    assert httpx.post(url, json=[event(genuine["id"], 999)]).status_code == 200
    wait_for(lambda: state_of(small_sandbox, genuine["id"]) != "SCHEDULED"
             and asyncio.run(_decision(app_server, genuine["id"])), timeout=30)  # fmt: skip
    left = asyncio.run(_inbox_counts(app_server)).get("pending", 0)
    assert left > 150, f"only {left} forged events were still waiting"
    assert state_of(small_sandbox, genuine["id"]) == "PENDING_APPROVAL"  # held, not approved


async def _decision(app_server, message_id: str) -> str | None:
    from sqlalchemy import select

    from empause.store.db import Database
    from empause.store.models import Prescreening

    db = Database(app_server.settings.database_url)
    try:
        async with db.sessions() as session:
            return await session.scalar(
                select(Prescreening.decision).where(Prescreening.message_id == message_id)
            )
    finally:
        await db.dispose()
