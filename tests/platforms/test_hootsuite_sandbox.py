"""The Hootsuite adapter, client and OAuth helpers against the running sandbox over HTTP."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from empause.domain.timeutil import format_time, parse_time
from empause.platforms.hootsuite import auth
from empause.platforms.hootsuite.adapter import HootsuitePlatform
from empause.platforms.port import AlreadySent, Ambiguous, AuthError, NotFound, Permanent
from empause.platforms.ratelimit import reset_registry
from empause.sandbox.seed import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEMO_PASSWORD,
    EM_EMAIL,
    EM_MEMBER_ID,
    EM_TEAM_ID,
    MARKETING_TEAM_ID,
    ORG_ID,
    PROFILE_IDS,
    STAFF_MEMBER_ID,
)
from tests.sandbox.conftest import sandbox_now

FACEBOOK = PROFILE_IDS[1]
RICH_FIELDS = {
    "webhookUrls": ["http://127.0.0.1:9/hook"],
    "tags": ["community", "events"],
    "targeting": {"facebookPage": {"ageMin": 18, "countries": [{"k": "Canada", "v": "CA"}]}},
    "privacy": {"facebook": {"visibility": ["everyone"]}},
    "location": {"latitude": 49.28, "longitude": -123.12},
    "emailNotification": True,
    "mediaUrls": [{"url": "http://static.ow.ly/photos/normal/x1.jpg"}],
    "media": [{"id": "bWVkaWEtcmljaA==", "videoOptions": {"facebook": {"title": "Clip"}}}],
}
COMPARED = ("text", "socialProfile", *RICH_FIELDS)


@pytest.fixture
async def platform(sandbox):
    reset_registry()
    hootsuite = HootsuitePlatform(sandbox.base_url, CLIENT_ID, CLIENT_SECRET, ORG_ID, timeout=3.0)
    yield hootsuite
    await hootsuite.aclose()
    reset_registry()


def stored(sandbox, message_id: str) -> dict:
    """The sandbox's own record of a message (deleted ones included)."""
    return next(m for m in all_stored(sandbox) if m["id"] == message_id)


def all_stored(sandbox) -> list[dict]:
    return sandbox.control.state()["messages"]


def create(sandbox, when, text="Pause test", profile=FACEBOOK, member_id=None, **fields) -> dict:
    token = (
        sandbox.control.token(member_id=member_id)
        if member_id
        else sandbox.control.token(organization_id=ORG_ID)
    )
    return sandbox.control.create_message(
        token, text=text, socialProfileIds=[profile], scheduledSendTime=format_time(when), **fields
    )


async def test_pages_split_windows_and_list_everything_once_in_order(sandbox, platform):
    now = sandbox_now(sandbox)
    start, end = now + timedelta(minutes=1), now + timedelta(days=60)
    expected = sorted(
        (
            m
            for m in all_stored(sandbox)
            if m["state"] == "SCHEDULED" and start <= parse_time(m["scheduledSendTime"]) < end
        ),
        key=lambda m: (parse_time(m["scheduledSendTime"]), int(m["id"])),
    )
    assert len(expected) > 200  # the demo seed spreads its messages over the coming weeks
    pages = [page async for page in platform.list_due(start, end)]
    listed = [m for page in pages for m in page]
    assert [m.id for m in listed] == [str(m["id"]) for m in expected]
    assert len(pages) >= 3 and all(len(page) <= 100 for page in pages)
    times = [m.scheduled_send_time for m in listed]
    assert times == sorted(times)


async def test_neutralise_and_reschedule_preserve_every_field(sandbox, platform):
    when = sandbox_now(sandbox) + timedelta(hours=3)
    original = create(sandbox, when, text="Every field survives", **RICH_FIELDS)
    message = await platform.get(str(original["id"]))
    assert message is not None

    await platform.neutralise(message)
    assert await platform.get(message.id) is None
    new_when = when + timedelta(days=7)
    copy = await platform.restore(message, new_when)

    assert copy.id != message.id and copy.scheduled_send_time == new_when.replace(microsecond=0)
    before, after = stored(sandbox, message.id), stored(sandbox, copy.id)
    for key in COMPARED:
        assert after.get(key) == before.get(key), key
    assert after["state"] == "SCHEDULED" and before["state"] == "DELETED"


async def test_deleting_a_sent_message_is_already_sent(sandbox, platform):
    original = create(sandbox, sandbox_now(sandbox) + timedelta(seconds=30), text="Going out")
    sandbox.control.clock(advance_seconds=120)
    for _ in range(100):  # the publisher runs on its own loop: wait for it, not for a time
        message = await platform.get(str(original["id"]))
        if message and message.state == "SENT":
            break
        await asyncio.sleep(0.05)
    assert message is not None and message.state == "SENT"
    with pytest.raises(AlreadySent) as info:
        await platform.neutralise(message)
    assert info.value.code == 40003


async def test_deleting_an_unknown_message_is_not_found(sandbox, platform):
    original = create(sandbox, sandbox_now(sandbox) + timedelta(hours=1))
    message = await platform.get(str(original["id"]))
    await platform.neutralise(message)
    with pytest.raises(NotFound):
        await platform.neutralise(message)
    assert await platform.get("999999999") is None


async def test_ambiguous_restore_then_find_restored_finds_the_copy(sandbox, platform):
    when = sandbox_now(sandbox) + timedelta(hours=5)
    original = create(sandbox, when, text="Lost in transit", **RICH_FIELDS)
    message = await platform.get(str(original["id"]))
    await platform.neutralise(message)
    new_when = when + timedelta(days=7)
    assert await platform.find_restored(message, new_when, exclude={message.id}) is None

    sandbox.control.faults(routes={"POST /v1/messages": {"lost_response_rate": 1}})
    with pytest.raises(Ambiguous):
        await platform.restore(message, new_when)
    sandbox.control.faults(routes={})

    found = await platform.find_restored(message, new_when, exclude={message.id})
    assert found is not None and found.text == message.text
    assert found.scheduled_send_time == new_when.replace(microsecond=0)
    live = [
        m
        for m in all_stored(sandbox)
        if m.get("text") == message.text and m["state"] not in ("DELETED",)
    ]
    assert [str(m["id"]) for m in live] == [found.id]  # exactly one live copy
    assert await platform.find_restored(message, new_when, exclude={found.id}) is None


async def test_server_errors_are_retried(sandbox, platform):
    platform.client.max_attempts = 12
    platform.client.backoff = 0.01
    ids = [str(m["id"]) for m in all_stored(sandbox) if m["state"] == "SCHEDULED"][:20]
    await platform.get(ids[0])  # token first: faults do not touch /oauth2/ anyway
    sandbox.control.faults(error_rate=0.4)
    messages = [await platform.get(i) for i in ids]
    sandbox.control.faults(error_rate=0)
    assert [m.id for m in messages if m] == ids
    assert platform.client.retries > 0


async def test_lost_delete_response_is_retried_and_counts_as_done(sandbox, platform):
    platform.client.max_attempts = 12
    platform.client.backoff = 0.01
    now = sandbox_now(sandbox)
    originals = [create(sandbox, now + timedelta(hours=2, minutes=i)) for i in range(8)]
    messages = [await platform.get(str(o["id"])) for o in originals]
    sandbox.control.faults(
        hang_seconds=0, routes={"DELETE /v1/messages/{messageId}": {"lost_response_rate": 0.5}}
    )
    for message in messages:
        await platform.neutralise(message)  # never NotFound for our own lost success
    sandbox.control.faults(routes={})
    assert all(stored(sandbox, m.id)["state"] == "DELETED" for m in messages)
    assert platform.client.retries > 0  # some answers really were lost


async def test_create_that_times_out_is_ambiguous_and_not_retried(sandbox, platform):
    when = sandbox_now(sandbox) + timedelta(hours=6)
    original = create(sandbox, when, text="Timed out")
    message = await platform.get(str(original["id"]))
    await platform.neutralise(message)
    route = "POST /v1/messages"
    before = sandbox.control.state()["calls"].get(route, 0)
    sandbox.control.faults(routes={route: {"timeout_rate": 1, "hang_seconds": 0.2}})
    with pytest.raises(Ambiguous):
        await platform.restore(message, when + timedelta(days=7))
    sandbox.control.faults(routes={})
    assert sandbox.control.state()["calls"][route] - before == 1  # no blind retry
    assert await platform.find_restored(message, when + timedelta(days=7), set()) is None
    copy = await platform.restore(message, when + timedelta(days=7))
    assert await platform.find_restored(message, when + timedelta(days=7), set()) == copy


async def test_validation_errors_are_permanent_with_their_code(sandbox, platform):
    original = create(sandbox, sandbox_now(sandbox) + timedelta(hours=1), text="Bad copy")
    message = await platform.get(str(original["id"]))
    with pytest.raises(Permanent) as info:
        await platform.client.create_message(
            {"text": "x", "socialProfileIds": [FACEBOOK], "scheduledSendTime": "tomorrow"}
        )
    assert info.value.status == 400 and info.value.code is not None
    assert not isinstance(info.value, NotFound | AlreadySent | AuthError)
    assert message is not None


async def test_many_concurrent_tasks_stay_under_the_rate_limit(sandbox, platform):
    ids = [str(m["id"]) for m in all_stored(sandbox) if m["state"] == "SCHEDULED"][:60]
    route = "GET /v1/messages/{messageId}"
    before = sandbox.control.state()["calls"].get(route, 0)
    results = await asyncio.gather(*(platform.get(i) for i in ids))
    assert all(r is not None for r in results)
    assert platform.client.rate_limited == 0  # no 429 at all, so none reached the caller
    assert sandbox.control.state()["calls"].get(route, 0) - before == 60  # no retries either


async def test_without_pacing_the_server_refuses_and_429s_are_retried(sandbox):
    """The control for the test above: the same burst unpaced does hit the server's limit."""
    reset_registry()
    hootsuite = HootsuitePlatform(
        sandbox.base_url, CLIENT_ID, CLIENT_SECRET, ORG_ID, rate_limit=1000, timeout=3.0
    )
    try:
        ids = [str(m["id"]) for m in all_stored(sandbox) if m["state"] == "SCHEDULED"][:60]
        results = await asyncio.gather(*(hootsuite.get(i) for i in ids))
        assert all(r is not None for r in results)  # 429s were absorbed by waiting
        assert hootsuite.client.rate_limited > 0
    finally:
        await hootsuite.aclose()
        reset_registry()


async def test_organization_token_is_reobtained_after_expiry(sandbox, platform):
    some_id = next(str(m["id"]) for m in all_stored(sandbox) if m["state"] == "SCHEDULED")
    assert await platform.get(some_id) is not None
    assert platform.token.fetches == 1
    sandbox.control.expire_tokens()
    assert await platform.get(some_id) is not None
    assert platform.token.fetches == 2


async def test_approve_and_reject_with_sequence_numbers(sandbox, platform):
    sandbox.control.set_member(STAFF_MEMBER_ID, needs_approval=True)
    when = sandbox_now(sandbox) + timedelta(days=1)
    first = create(sandbox, when, text="Needs review 1", member_id=STAFF_MEMBER_ID)
    second = create(sandbox, when, text="Needs review 2", member_id=STAFF_MEMBER_ID)
    one = await platform.get(str(first["id"]))
    two = await platform.get(str(second["id"]))
    assert one.state == two.state == "PENDING_APPROVAL"
    assert one.author_id == STAFF_MEMBER_ID and one.sequence_number is not None

    with pytest.raises(Permanent):
        await platform.approve(one.id, one.sequence_number + 1000)
    await platform.approve(one.id, one.sequence_number)
    await platform.reject(two.id, two.sequence_number, "Paused for an emergency")
    assert (await platform.get(one.id)).state == "SCHEDULED"
    assert (await platform.get(two.id)).state == "REJECTED"
    history = await platform.client.message_history(two.id)
    assert any(a.get("actionType") == "REJECT" for a in history)


async def test_member_team_ids_follow_team_changes_immediately(sandbox, platform):
    assert EM_TEAM_ID in await platform.member_team_ids(EM_MEMBER_ID)
    assert EM_TEAM_ID not in await platform.member_team_ids(STAFF_MEMBER_ID)
    sandbox.control.set_member(STAFF_MEMBER_ID, teams=[EM_TEAM_ID, MARKETING_TEAM_ID])
    assert await platform.member_team_ids(STAFF_MEMBER_ID) == {EM_TEAM_ID, MARKETING_TEAM_ID}
    sandbox.control.set_member(STAFF_MEMBER_ID, teams=[MARKETING_TEAM_ID])
    assert await platform.member_team_ids(STAFF_MEMBER_ID) == {MARKETING_TEAM_ID}


async def test_client_directory_calls(sandbox, platform):
    client = platform.client
    teams = await client.organization_teams(ORG_ID)
    assert EM_TEAM_ID in {t["id"] for t in teams}
    members = await client.team_members(ORG_ID, EM_TEAM_ID)
    assert EM_MEMBER_ID in {m["id"] for m in members}
    assert (await client.team(EM_TEAM_ID))["id"] == EM_TEAM_ID
    profiles = await client.social_profiles()
    assert set(PROFILE_IDS) <= {p["id"] for p in profiles}
    assert (await client.member(EM_MEMBER_ID))["id"] == EM_MEMBER_ID


# -- OAuth ----------------------------------------------------------------------------------


async def member_tokens(sandbox, http: httpx.AsyncClient) -> auth.TokenSet:
    """A member's refreshable tokens, signing in on the sandbox's login page as a browser would."""
    verifier, challenge = auth.make_pkce()
    redirect_uri = "http://127.0.0.1:8000/auth/callback"
    url = auth.authorization_url(sandbox.base_url, CLIENT_ID, redirect_uri, "state-1234", challenge)
    form = dict(parse_qsl(urlsplit(url).query))
    form.update(email=EM_EMAIL, password=DEMO_PASSWORD)
    page = await http.post(f"{sandbox.base_url}/oauth2/auth", data=form, follow_redirects=False)
    assert page.status_code in (302, 303), page.text
    query = dict(parse_qsl(urlsplit(page.headers["location"]).query))
    assert query["state"] == "state-1234"
    return await auth.exchange_code(
        http, sandbox.base_url, CLIENT_ID, CLIENT_SECRET, query["code"], redirect_uri, verifier
    )


async def test_refresh_rotates_and_persists_before_use(sandbox):
    async with httpx.AsyncClient() as http:
        first = await auth.member_app_token(
            http, sandbox.base_url, CLIENT_ID, CLIENT_SECRET, EM_MEMBER_ID
        )
        assert first.access_token and first.expires_at > sandbox_now(sandbox)
        tokens = await member_tokens(sandbox, http)
        assert tokens.refresh_token

        persisted: list[auth.TokenSet] = []

        async def persist(new: auth.TokenSet) -> None:
            persisted.append(new)

        rotated = await auth.refresh(
            http, sandbox.base_url, CLIENT_ID, CLIENT_SECRET, tokens.refresh_token, persist
        )
        assert persisted == [rotated]
        assert rotated.refresh_token and rotated.refresh_token != tokens.refresh_token
        with pytest.raises(AuthError) as info:  # single-use: the old one is dead
            await auth.refresh(
                http, sandbox.base_url, CLIENT_ID, CLIENT_SECRET, tokens.refresh_token, persist
            )
        assert info.value.error == "invalid_grant"

        async def broken(new: auth.TokenSet) -> None:
            raise OSError("disk full")

        with pytest.raises(OSError):  # not persisted: never handed out
            await auth.refresh(
                http, sandbox.base_url, CLIENT_ID, CLIENT_SECRET, rotated.refresh_token, broken
            )


async def test_a_reused_code_is_refused_and_revokes_its_tokens(sandbox):
    """Why exchange_code never retries: a second use of the code kills the first grant."""
    async with httpx.AsyncClient() as http:
        verifier, challenge = auth.make_pkce()
        redirect_uri = "http://127.0.0.1:8000/auth/callback"
        url = auth.authorization_url(
            sandbox.base_url, CLIENT_ID, redirect_uri, "state-5678", challenge
        )
        form = dict(parse_qsl(urlsplit(url).query), email=EM_EMAIL, password=DEMO_PASSWORD)
        page = await http.post(f"{sandbox.base_url}/oauth2/auth", data=form)
        code = dict(parse_qsl(urlsplit(page.headers["location"]).query))["code"]
        args = (http, sandbox.base_url, CLIENT_ID, CLIENT_SECRET, code, redirect_uri, verifier)
        tokens = await auth.exchange_code(*args)
        with pytest.raises(AuthError):
            await auth.exchange_code(*args)
        me = await http.get(
            f"{sandbox.base_url}/v1/me",
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
        assert me.status_code == 401


async def test_client_credentials_only_in_basic_auth(sandbox):
    async with httpx.AsyncClient() as http:
        with pytest.raises(AuthError):
            await auth.organization_app_token(
                http, sandbox.base_url, CLIENT_ID, "wrong-secret", ORG_ID
            )
        tokens = await auth.organization_app_token(
            http, sandbox.base_url, CLIENT_ID, CLIENT_SECRET, ORG_ID
        )
        assert tokens.refresh_token is None and not tokens.expired()


async def test_from_settings_counts_api_calls(sandbox):
    from empause.config import Settings

    reset_registry()
    settings = Settings(hootsuite_base_url=sandbox.base_url, organization_id=ORG_ID)
    hootsuite = HootsuitePlatform.from_settings(settings)
    try:
        assert hootsuite.name == "hootsuite" and hootsuite.capabilities.moves_in_place is False
        assert await hootsuite.member_team_ids(EM_MEMBER_ID)
        assert hootsuite.api_calls == 2  # one token, one GET
    finally:
        await hootsuite.aclose()
        reset_registry()


async def test_profile_names_label_every_organization_profile(platform):
    names = await platform.profile_names()
    assert set(names) == set(PROFILE_IDS)
    assert names[FACEBOOK] == "Facebook page @SandboxCounty"
    # Twitter withholds the username from the API: the id stands in, never a blank.
    assert names[PROFILE_IDS[0]] == f"X (Twitter) {PROFILE_IDS[0]}"
