"""Prescreening by polling on SocialHub (no webhooks), over real HTTP to the SocialHub sandbox,
with the real Engine, the real adapter and a real database.

Not paused: a staff post needing approval is approved within a few polls (or left alone with
`prescreen_when_normal=ignore`). Paused: an emergency-team post is approved, a staff post is
held and never publishes, even when the sandbox clock passes its time; resume releases what
is still in the future (approved in place, published at its own time), and polling never
approves a held post whose time has passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from empause.bootstrap import Services
from empause.config import Settings
from empause.domain.organization import OrganizationConfig, PlatformName
from empause.engine.service import Engine
from empause.jobs.handlers import EngineHandlers
from empause.jobs.inprocess import InProcessQueue
from empause.platforms.ratelimit import reset_registry
from empause.platforms.socialhub.adapter import SocialHubPlatform
from empause.prescreen.poller import HELD_OUTCOME, PendingPoller
from empause.sandbox.socialhub import seed
from empause.sandbox.socialhub.server import SocialHubSandboxServer
from empause.store.db import Database
from empause.web.tenants import Tenants

FAST_RATE = 200  # requests/s: behaviour tests need not wait at 20/s
POLL = 0.2  # seconds between polls in these tests (the setting's default is 2 s)


@pytest.fixture
def server(socialhub: SocialHubSandboxServer) -> SocialHubSandboxServer:
    assert socialhub.control is not None
    socialhub.control.faults(rate_limit=FAST_RATE)
    return socialhub


def organization(**overrides: Any) -> OrganizationConfig:
    return OrganizationConfig(
        seed.ACCOUNT_ID, PlatformName.SOCIALHUB, seed.EM_TEAM_ID, rate_limit=FAST_RATE,
        **overrides,
    )  # fmt: skip


@pytest.fixture
async def make(
    db: Database, server: SocialHubSandboxServer
) -> AsyncIterator[Callable[..., tuple[Engine, PendingPoller]]]:
    """An engine and a poller for the demo account, sharing one adapter (as the watch does)."""
    platforms: list[SocialHubPlatform] = []
    pollers: list[PendingPoller] = []
    reset_registry()

    def build(**overrides: Any) -> tuple[Engine, PendingPoller]:
        org = organization(**overrides)
        platform = SocialHubPlatform(
            server.base_url, seed.ACCOUNT_TOKEN, rate_limit=FAST_RATE, timeout=3.0
        )
        platforms.append(platform)
        clock = server.sandbox.clock.now
        engine = Engine(db, platform, org, clock=clock, lock_timeout=5)
        poller = PendingPoller(db, platform, engine, org, interval=POLL)
        pollers.append(poller)
        return engine, poller

    yield build
    for poller in pollers:
        await poller.stop()
    for platform in platforms:
        await platform.aclose()
    reset_registry()


def post(server: SocialHubSandboxServer, post_id: str) -> dict[str, Any]:
    assert server.control is not None
    return next(p for p in server.control.state()["posts"] if p["_id"] == post_id)


def published_ids(server: SocialHubSandboxServer) -> set[str]:
    assert server.control is not None
    return {p["_id"] for p in server.control.state()["published"]}


def suggest(
    server: SocialHubSandboxServer, token: str, text: str, when: datetime
) -> dict[str, Any]:
    """As a member: a new post on the Facebook channel, suggested for approval."""
    assert server.control is not None
    made = server.control.create_post(token, seed.FACEBOOK_CHANNEL_ID, text, when, then="suggest")
    assert made["status"] == "needsApproval"
    return made


def now(server: SocialHubSandboxServer) -> datetime:
    return server.sandbox.clock.now()


async def wait_for(predicate: Callable[[], bool], limit: float = 10.0) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > limit:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_not_paused_a_staff_post_is_approved_within_a_few_polls(make, server):
    _, poller = make()
    staff = suggest(
        server, seed.STAFF_TOKEN, "Park reopens Monday", now(server) + timedelta(hours=3)
    )
    poller.start()
    took = await wait_for(lambda: post(server, staff["_id"])["status"] == "scheduled")
    assert took < 5 * POLL + 2.0, f"approved after {took:.2f}s"
    approved = post(server, staff["_id"])
    assert approved["publishTime"] == staff["publishTime"]  # approved in place, same time
    assert approved["content"] == staff["content"]
    polls = poller.polls
    await wait_for(lambda: poller.polls >= polls + 2)  # the poll that approved it is over
    decided, polls = poller.decisions, poller.polls
    await wait_for(lambda: poller.polls >= polls + 3)
    assert poller.decisions == decided  # nothing new: no decision is taken again


async def test_not_paused_with_ignore_the_post_is_left_to_reviewers(make, server):
    _, poller = make(prescreen_when_normal="ignore")
    staff = suggest(server, seed.STAFF_TOKEN, "Pool hours", now(server) + timedelta(hours=3))
    first = await poller.poll_once()
    assert first[staff["_id"]] == "ignored"
    calls = poller.platform.api_calls
    assert await poller.poll_once() == {}  # same post, same version: not decided again
    assert poller.platform.api_calls - calls == 1  # an idle poll costs one listing request
    assert post(server, staff["_id"])["status"] == "needsApproval"
    # The post changes (its author edits the text): a new version, decided again.
    assert server.control is not None
    server.control.api("PATCH", f"/cp/posts/{staff['_id']}", seed.STAFF_TOKEN,
                       json={"content": {"text": "Pool hours (updated)"}})  # fmt: skip
    again = await poller.poll_once()
    assert again == {staff["_id"]: "ignored"}


async def test_paused_emergency_posts_go_out_staff_posts_are_held_until_resume(make, server):
    engine, poller = make()
    paused = await engine.pause("storm", by="tester", horizon="1d", shift="1d")
    assert paused["status"] == "done"
    start = now(server)
    em = suggest(server, seed.EM_TOKEN, "Shelter open at the school", start + timedelta(hours=1))
    staff_soon = suggest(server, seed.STAFF_TOKEN, "Bake sale today", start + timedelta(hours=1))
    staff_later = suggest(
        server, seed.STAFF_TOKEN, "Bake sale tomorrow", start + timedelta(hours=5)
    )

    outcomes = await poller.poll_once()  # the seed's own pending posts are held too
    mine = {em["_id"], staff_soon["_id"], staff_later["_id"]}
    assert {k: v for k, v in outcomes.items() if k in mine} == {
        em["_id"]: "approved", staff_soon["_id"]: "held", staff_later["_id"]: "held",
    }  # fmt: skip
    assert post(server, em["_id"])["status"] == "scheduled"
    assert post(server, staff_soon["_id"])["status"] == "needsApproval"
    assert await poller.poll_once() == {}  # held once, not again at every poll

    assert server.control is not None
    server.control.clock(advance_seconds=2 * 3600)  # the emergency lasts two hours
    gone_out = published_ids(server)
    assert em["_id"] in gone_out  # the emergency team's post went out at its time
    assert staff_soon["_id"] not in gone_out  # the staff post's time passed: never published
    assert staff_later["_id"] not in gone_out

    resumed = await engine.resume("original", by="tester")
    held = resumed["held"]
    assert held["held"] == len(outcomes) - 1  # everything held, and nothing else
    assert staff_later["_id"] in held["released_ids"]
    review = {r["message_id"]: r["why"] for r in held["review"]}
    assert review[staff_soon["_id"]] == "its send time has passed"
    assert em["_id"] not in review and em["_id"] not in held["released_ids"]
    released = post(server, staff_later["_id"])
    assert released["status"] == "scheduled"  # approved in place: same _id, same time
    assert released["publishTime"] == staff_later["publishTime"]
    assert released["content"] == staff_later["content"]

    # Polling after the resume never approves the held post whose time has passed.
    after = await poller.poll_once()
    assert after.get(staff_soon["_id"]) == HELD_OUTCOME
    assert post(server, staff_soon["_id"])["status"] == "needsApproval"

    server.control.clock(advance_seconds=4 * 3600)
    gone_out = published_ids(server)
    assert staff_later["_id"] in gone_out  # at its own time, after the resume
    assert staff_soon["_id"] not in gone_out


async def test_a_resume_run_by_a_worker_releases_what_was_held(make, server):
    """The dashboard's path: begin_resume, then a worker's job runs it (Engine.run)."""
    engine, poller = make()
    await engine.pause("storm", by="tester", horizon="1d", shift="1d")
    staff = suggest(server, seed.STAFF_TOKEN, "Choir concert", now(server) + timedelta(hours=5))
    assert (await poller.poll_once())[staff["_id"]] == "held"
    begun = await engine.begin_resume("original", by="tester")
    assert begun.operation_id is not None
    await engine.run()  # what the job does
    released = post(server, staff["_id"])
    assert released["status"] == "scheduled"
    assert released["publishTime"] == staff["publishTime"]


@asynccontextmanager
async def watching(database_url: str, server: SocialHubSandboxServer) -> AsyncIterator[Tenants]:
    """The demo account protected and watched as `empause serve` does (Services, Tenants,
    the in-process job queue), with a short poll interval."""
    settings = Settings(
        _env_file=None, database_url=database_url, platform="socialhub",
        socialhub_base_url=server.base_url, socialhub_access_token=seed.ACCOUNT_TOKEN,
        organization_id=seed.ACCOUNT_ID, emergency_team_id=seed.EM_TEAM_ID,
        rate_limit=FAST_RATE, pending_poll_interval=timedelta(seconds=POLL),
    )  # fmt: skip
    reset_registry()
    services = Services(settings)
    await services.start(migrate=False)
    queue = InProcessQueue(EngineHandlers(services))
    tenants = Tenants(services, queue, membership_ttl=10)
    await tenants.start()
    try:
        yield tenants
    finally:
        await tenants.stop()
        await queue.stop()
        await services.aclose()
        reset_registry()


async def test_the_watch_of_a_socialhub_organization_polls_instead_of_an_inbox(
    database_url, server
):
    """Wired as `empause serve` runs it: the organization's watch starts a poller (no inbox,
    no webhooks), which approves a staff post while not paused; stopping the watch stops it."""
    async with watching(database_url, server) as tenants:
        tenant = await tenants.get(seed.ACCOUNT_ID)
        assert tenant.watch is not None and tenant.watch.inbox is None
        poller = tenant.watch.poller
        assert poller is not None and poller.interval == POLL
        staff = suggest(server, seed.STAFF_TOKEN, "Trail map", now(server) + timedelta(hours=3))
        await wait_for(lambda: post(server, staff["_id"])["status"] == "scheduled")
    assert tenant.watch is None
    stopped_at = poller.polls
    await asyncio.sleep(3 * POLL)
    assert poller.polls == stopped_at  # stopped with the watch


async def test_paused_a_held_post_approved_by_a_human_is_moved_by_the_fast_sweep(
    database_url, server
):
    """Invariant 3 under a human reviewer on SocialHub: the watch holds the staff post; an
    admin approves it anyway in SocialHub; the watch's fast sweep moves it out of the window
    before its time, so it never publishes; the emergency team's post goes out untouched."""
    async with watching(database_url, server) as tenants:
        tenant = await tenants.get(seed.ACCOUNT_ID)
        assert tenant.watch is not None and tenant.watch.poller is not None
        poller = tenant.watch.poller
        await tenant.engine.pause("storm", by="tester", horizon="1d", shift="1d")
        soon = now(server) + timedelta(minutes=3)
        staff = suggest(server, seed.STAFF_TOKEN, "Street fair", soon)
        em = suggest(server, seed.EM_TOKEN, "Evacuation route", soon)
        await wait_for(lambda: post(server, em["_id"])["status"] == "scheduled")
        await wait_for(lambda: poller._decided.get(staff["_id"]) is not None)
        assert post(server, staff["_id"])["status"] == "needsApproval"  # held
        assert server.control is not None
        approved = server.control.api(
            "POST", f"/cp/posts/{staff['_id']}/approve", seed.ACCOUNT_TOKEN
        )
        assert approved.status_code == 200, approved.text
        moved_to = (soon + timedelta(days=1)).isoformat(timespec="milliseconds")
        await wait_for(
            lambda: post(server, staff["_id"])["publishTime"] == moved_to.replace("+00:00", "Z")
        )
        assert post(server, em["_id"])["publishTime"] == em["publishTime"]  # left alone
        server.control.clock(advance_seconds=10 * 60)
        gone_out = published_ids(server)
        assert em["_id"] in gone_out and staff["_id"] not in gone_out


async def test_paused_an_emergency_members_draft_suggested_by_staff_is_held(make, server):
    """Who asks for publication answers for it: a draft by the emergency team, edited and
    suggested by staff, is held while paused, not approved as the team's own."""
    engine, poller = make()
    await engine.pause("storm", by="tester", horizon="1d", shift="1d")
    assert server.control is not None
    draft = server.control.create_post(
        seed.EM_TOKEN, seed.FACEBOOK_CHANNEL_ID, "Shelter list", now(server) + timedelta(hours=2),
        then="saveAsDraft",
    )  # fmt: skip
    for call in (("PATCH", f"/cp/posts/{draft['_id']}", {"content": {"text": "Party tonight"}}),
                 ("POST", f"/cp/posts/{draft['_id']}/suggest", None)):  # fmt: skip
        method, path, body = call
        answer = server.control.api(method, path, seed.STAFF_TOKEN, json=body)
        assert answer.status_code == 200, answer.text
    assert post(server, draft["_id"])["author"] == seed.EM_USER_ID
    assert (await poller.poll_once())[draft["_id"]] == "held"
    assert post(server, draft["_id"])["status"] == "needsApproval"


async def test_paused_with_reject_a_staff_post_goes_back_to_its_author(make, server):
    engine, poller = make(held_action="reject")
    await engine.pause("storm", by="tester", horizon="1d", shift="1d")
    staff = suggest(server, seed.STAFF_TOKEN, "Fun run", now(server) + timedelta(hours=2))
    assert (await poller.poll_once())[staff["_id"]] == "rejected"
    rejected = post(server, staff["_id"])
    assert rejected["status"] == "draft" and rejected["assignee"] == seed.STAFF_USER_ID
    assert "Emergency pause" in rejected["history"][-1]["message"]
