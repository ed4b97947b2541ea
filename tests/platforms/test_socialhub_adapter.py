"""The SocialHub adapter over its sandbox, beyond the shared contract: listing that misses
nothing while posts move out of the window, retries and pacing, ambiguity resolved by
reading back, reads of one post, membership and channel names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from empause.domain.timeutil import parse_time
from empause.platforms.port import Ambiguous, AuthError, NotFound, Permanent, Transient
from empause.platforms.ratelimit import reset_registry
from empause.platforms.socialhub.adapter import SocialHubPlatform
from empause.platforms.socialhub.client import PAGE_MAX, format_time_ms
from empause.sandbox.socialhub import seed

WEEK = timedelta(days=7)


@pytest.fixture
async def adapter(socialhub) -> AsyncIterator[SocialHubPlatform]:
    socialhub.control.faults(rate_limit=1000)
    reset_registry()
    platform = SocialHubPlatform(socialhub.base_url, seed.ACCOUNT_TOKEN, rate_limit=1000,
                                 timeout=2.0)  # fmt: skip
    platform.client.backoff = 0.01
    yield platform
    await platform.aclose()
    reset_registry()


async def first_due(adapter, start):
    async for page in adapter.list_due(start, start + WEEK):
        return page[0]
    raise AssertionError("nothing due")


def now(socialhub):
    return parse_time(socialhub.control.state()["now"])


def scheduled_between(socialhub, start, end) -> set[str]:
    return {
        p["_id"] for p in socialhub.control.state()["posts"]
        if p["status"] == "scheduled" and start <= parse_time(p["publishTime"]) < end
    }  # fmt: skip


async def test_listing_misses_nothing_while_posts_move_out_of_the_window(socialhub, adapter):
    start = now(socialhub)
    end = start + timedelta(days=21)
    expected = scheduled_between(socialhub, start, end)
    assert len(expected) > 2 * PAGE_MAX  # several pages
    seen: list[str] = []
    async for page in adapter.list_due(start, end):
        times = [m.scheduled_send_time for m in page]
        assert times == sorted(times) and all(start <= t < end for t in times)
        seen += [m.id for m in page]
        for message in page:  # the engine moves each page away while the next is read
            await adapter.restore(message, message.scheduled_send_time + 4 * WEEK)
    assert len(seen) == len(set(seen)) and set(seen) == expected
    assert scheduled_between(socialhub, start, end) == set()


async def test_a_full_page_at_one_instant_is_stepped_through(socialhub, adapter):
    socialhub.control.reset(posts=0)
    socialhub.control.faults(rate_limit=1000)
    control = socialhub.control
    when = now(socialhub) + timedelta(hours=1)
    token = control.token(seed.EM_EMAIL)
    made = {control.create_post(token, seed.FACEBOOK_CHANNEL_ID, f"same {n}", when)["_id"]
            for n in range(PAGE_MAX + 20)}  # fmt: skip
    found = [m.id async for page in adapter.list_due(when, when + timedelta(seconds=1))
             for m in page]  # fmt: skip
    assert len(found) == len(made) and set(found) == made


async def test_server_errors_are_retried_then_transient(socialhub, adapter):
    start = now(socialhub)
    socialhub.control.faults(routes={"GET /cp/posts": {"error_rate": 1.0}})
    with pytest.raises(Transient):
        [m async for page in adapter.list_due(start, start + WEEK) for m in page]
    assert adapter.client.retries >= adapter.client.max_attempts - 1
    socialhub.control.faults(routes={"GET /cp/posts": {"error_rate": 0.5}})
    listed = [m async for page in adapter.list_due(start, start + WEEK) for m in page]
    assert {m.id for m in listed} == scheduled_between(socialhub, start, start + WEEK)


async def test_429s_hold_back_and_then_go_through(socialhub):
    socialhub.control.faults(rate_limit=5)
    reset_registry()
    eager = SocialHubPlatform(socialhub.base_url, seed.ACCOUNT_TOKEN, rate_limit=1000)
    try:
        for _ in range(8):
            assert seed.EM_TEAM_ID in await eager.member_team_ids(seed.EM_USER_ID)
        assert eager.client.rate_limited >= 1  # refused, held back, then served
    finally:
        await eager.aclose()
        reset_registry()


async def test_a_lost_unschedule_is_ambiguous_and_a_repeat_says_not_found(socialhub, adapter):
    start = now(socialhub)
    message = await first_due(adapter, start)
    socialhub.control.faults(
        routes={"POST /cp/posts/{id}/unschedule": {"lost_response_rate": 1.0}}
    )
    with pytest.raises(Ambiguous):
        await adapter.neutralise(message)
    socialhub.control.faults(routes={})
    with pytest.raises(NotFound):  # it was applied: already out of the schedule
        await adapter.neutralise(message)
    current = await adapter.get(message.id)
    assert current is not None and current.state == "DRAFT"
    restored = await adapter.restore(message, message.scheduled_send_time)
    assert restored.id == message.id and restored.state == "SCHEDULED"
    assert restored.scheduled_send_time == message.scheduled_send_time


async def test_moving_too_late_or_into_the_past_is_refused(socialhub, adapter):
    start = now(socialhub)
    message = await first_due(adapter, start)
    with pytest.raises(Permanent, match="publishTimeNotInFuture"):
        await adapter.restore(message, start - timedelta(minutes=1))
    socialhub.control.clock(advance_seconds=(message.scheduled_send_time - start).total_seconds()
                            + 5)  # fmt: skip
    with pytest.raises(Permanent):  # published meanwhile: nothing to move any more
        await adapter.restore(message, message.scheduled_send_time + WEEK)
    with pytest.raises(Permanent):
        await adapter.neutralise(message)


async def test_reads_of_one_post_with_and_without_its_group(socialhub, adapter):
    post = socialhub.control.state()["posts"][7]
    fresh = SocialHubPlatform(socialhub.base_url, seed.ACCOUNT_TOKEN, rate_limit=1000)
    try:
        found = await fresh.get(post["_id"])  # no group known yet: a scan finds it
        assert found is not None and found.raw["postGroupId"] == post["postGroupId"]
        calls = fresh.api_calls
        assert (await fresh.get(post["_id"])) is not None
        assert fresh.api_calls == calls + 1  # now through its post group: one call
        newer = socialhub.control.state()["posts"][20]["_id"]  # passed by that scan
        calls = fresh.api_calls
        assert (await fresh.get(newer)) is not None and fresh.api_calls == calls + 1
        assert await fresh.get("f" * 24) is None
        assert await fresh.get("not-an-id") is None
    finally:
        await fresh.aclose()


async def test_pending_approve_reject_membership_and_names(socialhub, adapter):
    control = socialhub.control
    waiting = {p["_id"] for p in control.state()["posts"] if p["status"] == "needsApproval"}
    pending = await adapter.pending()
    assert {m.id for m in pending} == waiting and waiting
    assert all(m.state == "PENDING_APPROVAL" and m.author_id == seed.STAFF_USER_ID
               for m in pending)  # fmt: skip
    first, second = sorted(waiting)[:2]
    await adapter.approve(first, 1)
    await adapter.reject(second, 1, "not during the emergency")
    states = {p["_id"]: p["status"] for p in control.state()["posts"]}
    assert (states[first], states[second]) == ("scheduled", "draft")
    with pytest.raises(Permanent):
        await adapter.approve(first, 1)  # no longer awaiting approval: 409
    assert await adapter.member_team_ids(seed.STAFF_USER_ID) == {seed.STAFF_TEAM_ID}
    control.set_teams(seed.STAFF_USER_ID, [seed.STAFF_TEAM_ID, seed.EM_TEAM_ID])
    assert await adapter.member_team_ids(seed.STAFF_USER_ID) == {seed.STAFF_TEAM_ID,
                                                                 seed.EM_TEAM_ID}  # fmt: skip
    names = await adapter.profile_names()
    assert names[seed.FACEBOOK_CHANNEL_ID] == "Facebook Sandbox County"
    assert set(names) == set(seed.CHANNEL_IDS)


async def test_a_wrong_token_is_an_auth_error(socialhub):
    reset_registry()
    wrong = SocialHubPlatform(socialhub.base_url, "not-a-token", rate_limit=1000)
    try:
        with pytest.raises(AuthError):
            await wrong.pending()
    finally:
        await wrong.aclose()
        reset_registry()


def test_times_go_out_to_the_millisecond():
    when = parse_time("2031-05-06T07:08:09.123456+02:00")
    assert format_time_ms(when) == "2031-05-06T05:08:09.123Z"
