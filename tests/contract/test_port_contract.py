"""The port's contract, run against every platform: the in-memory fake in both shapes
(copies, like Hootsuite; in place, like SocialHub), the Hootsuite adapter over its sandbox and
the SocialHub adapter over its sandbox, over real HTTP. A new adapter joins by adding one
`Harness` below."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from empause.domain.model import Message, MessageState
from empause.domain.timeutil import format_time, parse_time
from empause.platforms.fake import FakePlatform
from empause.platforms.hootsuite.adapter import HootsuitePlatform
from empause.platforms.port import Ambiguous, NotFound, Platform
from empause.platforms.ratelimit import reset_registry
from empause.platforms.socialhub.adapter import SocialHubPlatform, message_from_post
from empause.sandbox import seed
from empause.sandbox.socialhub import seed as sh_seed
from empause.sandbox.socialhub.server import SocialHubSandboxServer

EM_TEAM = seed.EM_TEAM_ID


@dataclass
class Harness:
    """What the contract needs around a platform: make items, move time, see what published."""

    platform: Platform
    world: Any  # FakePlatform or a sandbox server
    em_team: str = EM_TEAM
    em_member: str = seed.EM_MEMBER_ID
    staff_member: str = seed.STAFF_MEMBER_ID

    def now(self) -> datetime:
        if isinstance(self.world, FakePlatform):
            return self.world.now
        return parse_time(self.world.control.state()["now"])

    def add(self, text: str, due_in: timedelta, state: str = "SCHEDULED") -> Message:
        if isinstance(self.world, FakePlatform):
            return self.world.add(text, due_in, state=state)
        if isinstance(self.world, SocialHubSandboxServer):
            control = self.world.control
            waiting = state == "PENDING_APPROVAL"  # staff may only suggest; EM schedules
            made = control.create_post(
                control.token(sh_seed.STAFF_EMAIL if waiting else sh_seed.EM_EMAIL),
                sh_seed.FACEBOOK_CHANNEL_ID, text, self.now() + due_in,
                then="suggest" if waiting else "schedule", images=[{"id": "a" * 24}],
            )  # fmt: skip
            return message_from_post(made)
        control = self.world.control
        control.set_member(seed.STAFF_MEMBER_ID, needs_approval=state == "PENDING_APPROVAL")
        made = control.create_message(
            control.token(member_id=seed.STAFF_MEMBER_ID), text=text,
            socialProfileIds=[seed.FACEBOOK_PROFILE_ID],
            scheduledSendTime=format_time(self.now() + due_in), tags=["contract"],
        )  # fmt: skip
        return Message(
            id=str(made["id"]), state=made["state"],
            scheduled_send_time=parse_time(made["scheduledSendTime"]),
            profile_id=seed.FACEBOOK_PROFILE_ID, text=text,
            sequence_number=made.get("sequenceNumber"), raw=made,
        )  # fmt: skip

    def advance(self, seconds: float) -> None:
        if isinstance(self.world, FakePlatform):
            self.world.advance(seconds)
        else:
            self.world.control.clock(advance_seconds=seconds)

    def published(self) -> set[str]:
        if isinstance(self.world, FakePlatform):
            return set(self.world.published)
        if isinstance(self.world, SocialHubSandboxServer):
            return {p["_id"] for p in self.world.control.state()["published"]}
        return {p["message_id"] for p in self.world.control.state()["published"]}

    def lose_next_restore_response(self) -> None:
        if isinstance(self.world, FakePlatform):
            self.world.fail_next("restore", Ambiguous("response lost"), applied=True)
        elif isinstance(self.world, SocialHubSandboxServer):
            self.world.control.faults(routes={"PATCH /cp/posts/{id}": {"lost_response_rate": 1.0}})
        else:
            self.world.control.faults(routes={"POST /v1/messages": {"lost_response_rate": 1.0}})


@pytest.fixture(params=["fake-copies", "fake-in-place", "hootsuite", "socialhub"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "socialhub":
        server = request.getfixturevalue("socialhub")
        server.control.reset(seed="demo", posts=0, rng=7)
        server.control.faults(rate_limit=1000)
        reset_registry()
        socialhub = SocialHubPlatform(
            server.base_url, sh_seed.ACCOUNT_TOKEN, rate_limit=1000, timeout=3.0
        )
        yield Harness(socialhub, server, sh_seed.EM_TEAM_ID, sh_seed.EM_USER_ID,
                      sh_seed.STAFF_USER_ID)  # fmt: skip
        await socialhub.aclose()
        reset_registry()
        return
    if request.param.startswith("fake"):
        fake = FakePlatform(
            moves_in_place=request.param == "fake-in-place",
            teams={seed.EM_MEMBER_ID: {EM_TEAM}, seed.STAFF_MEMBER_ID: {"staff"}},
        )
        yield Harness(fake, fake)
        return
    sandbox = request.getfixturevalue("sandbox")
    sandbox.control.reset(seed="demo", messages=0, rng=7)
    sandbox.control.faults(rate_limit=1000)
    reset_registry()
    hootsuite = HootsuitePlatform(
        sandbox.base_url, seed.CLIENT_ID, seed.CLIENT_SECRET, seed.ORG_ID, rate_limit=1000,
        timeout=3.0,
    )  # fmt: skip
    yield Harness(hootsuite, sandbox)
    await hootsuite.aclose()
    reset_registry()


async def due(platform: Platform, start: datetime, end: datetime) -> list[Message]:
    return [m async for page in platform.list_due(start, end) for m in page]


async def test_list_due_is_the_window_soonest_first(harness: Harness) -> None:
    later = harness.add("later", timedelta(hours=5))
    sooner = harness.add("sooner", timedelta(hours=1))
    harness.add("outside", timedelta(days=3))
    now = harness.now()
    found = await due(harness.platform, now, now + timedelta(days=1))
    assert [m.id for m in found] == [sooner.id, later.id]
    assert all(m.state == MessageState.SCHEDULED.value for m in found)


async def test_a_neutralised_item_cannot_publish_and_a_restored_one_does(harness: Harness) -> None:
    item = harness.add("storm update", timedelta(minutes=30))
    await harness.platform.neutralise(item)
    now = harness.now()
    assert await due(harness.platform, now, now + timedelta(hours=1)) == []
    when = harness.now() + timedelta(hours=2)
    restored = await harness.platform.restore(item, when)
    assert restored.text == item.text and restored.profile_id == item.profile_id
    assert restored.scheduled_send_time == when
    assert (restored.id == item.id) is harness.platform.capabilities.moves_in_place
    harness.advance(3600)
    assert item.id not in harness.published() and restored.id not in harness.published()
    harness.advance(3700)
    assert restored.id in harness.published()
    assert item.id not in harness.published() or restored.id == item.id


async def test_in_place_platforms_move_with_one_call(harness: Harness) -> None:
    if not harness.platform.capabilities.moves_in_place:
        pytest.skip("copies: neutralise first, then restore")
    item = harness.add("move me", timedelta(minutes=30))
    when = harness.now() + timedelta(days=7)
    moved = await harness.platform.restore(item, when)
    assert moved.id == item.id and moved.scheduled_send_time == when
    now = harness.now()
    assert await due(harness.platform, now, now + timedelta(days=1)) == []


async def test_neutralising_twice_is_harmless(harness: Harness) -> None:
    item = harness.add("twice", timedelta(hours=1))
    await harness.platform.neutralise(item)
    try:
        await harness.platform.neutralise(item)
    except NotFound:
        pass  # the contract: NotFound or nothing, and the item stays unable to publish
    harness.advance(7200)
    assert item.id not in harness.published()


async def test_an_ambiguous_restore_is_found_before_trying_again(harness: Harness) -> None:
    item = harness.add("ambiguous", timedelta(hours=1))
    if not harness.platform.capabilities.moves_in_place:
        await harness.platform.neutralise(item)
    when = harness.now() + timedelta(days=2)
    assert await harness.platform.find_restored(item, when, set()) is None
    harness.lose_next_restore_response()
    with pytest.raises(Ambiguous):
        await harness.platform.restore(item, when)
    if not isinstance(harness.world, FakePlatform):
        harness.world.control.faults(routes={})
    found = await harness.platform.find_restored(item, when, set())
    assert found is not None and found.scheduled_send_time == when
    if not harness.platform.capabilities.moves_in_place:
        assert await harness.platform.find_restored(item, when, {found.id}) is None


async def test_reads_membership_and_unknown_items(harness: Harness) -> None:
    assert await harness.platform.get("999999999") is None
    assert harness.em_team in await harness.platform.member_team_ids(harness.em_member)
    assert harness.em_team not in await harness.platform.member_team_ids(harness.staff_member)


async def test_pending_items_can_be_approved(harness: Harness) -> None:
    item = harness.add("needs a look", timedelta(hours=3), state="PENDING_APPROVAL")
    waiting = await harness.platform.pending()
    assert item.id in {m.id for m in waiting}
    current = await harness.platform.get(item.id)
    assert current is not None and current.sequence_number is not None
    await harness.platform.approve(item.id, current.sequence_number)
    approved = await harness.platform.get(item.id)
    assert approved is not None and approved.state == MessageState.SCHEDULED.value
