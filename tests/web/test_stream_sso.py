"""App-stream single sign-on: the token formula, constant-time comparison, skew both ways,
and replays refused across processes (two engines on one database)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from empause.store.db import Database
from empause.web.stream import sso

SECRET = "stream-test-app-secret"
SKEW = timedelta(seconds=300)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
MEMBER = "19000002"


def _at(offset_s: int) -> int:
    return int(NOW.timestamp()) + offset_s


def _verify(member: str | None, ts: int | str | None, token: str | None) -> sso.SsoIdentity:
    return sso.verify(
        member, None if ts is None else str(ts), token, secret=SECRET, max_skew=SKEW, now=NOW
    )


def test_the_token_is_the_lowercase_hex_sha512_of_member_timestamp_and_secret():
    ts = _at(0)
    expected = hashlib.sha512(f"{MEMBER}{ts}{SECRET}".encode()).hexdigest()
    assert sso.sign(MEMBER, ts, SECRET) == expected
    identity = _verify(MEMBER, ts, expected)
    assert (identity.member_id, identity.timestamp) == (MEMBER, ts)


def test_the_comparison_is_constant_time(monkeypatch):
    calls = []
    real = sso.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(sso.hmac, "compare_digest", spy)
    ts = _at(0)
    _verify(MEMBER, ts, sso.sign(MEMBER, ts, SECRET))
    with pytest.raises(sso.SsoRefused):
        _verify(MEMBER, ts, "0" * 128)
    assert len(calls) == 2


@pytest.mark.parametrize(
    "member,token_for",
    [
        (MEMBER, lambda ts: sso.sign(MEMBER, ts, "another-secret")),  # signed with another secret
        (MEMBER, lambda ts: sso.sign("19000003", ts, SECRET)),  # another member's token
        (MEMBER, lambda ts: sso.sign(MEMBER, ts + 1, SECRET)),  # another timestamp's
        (MEMBER, lambda ts: sso.sign(MEMBER, ts, SECRET).upper()),  # not lowercase hex
        (MEMBER, lambda ts: sso.sign(MEMBER, ts, SECRET)[:-1]),  # truncated
        (MEMBER, lambda ts: ""),
        ("19000002 ", lambda ts: sso.sign("19000002 ", ts, SECRET)),  # not a member id
    ],
)
def test_forged_or_malformed_tokens_are_refused(member, token_for):
    ts = _at(0)
    with pytest.raises(sso.SsoRefused) as refused:
        _verify(member, ts, token_for(ts))
    assert refused.value.status == 401


@pytest.mark.parametrize("offset", [-300, -299, 0, 299, 300])
def test_timestamps_within_the_skew_pass(offset):
    ts = _at(offset)
    _verify(MEMBER, ts, sso.sign(MEMBER, ts, SECRET))


@pytest.mark.parametrize("offset", [-301, -3600, 301, 86400])
def test_stale_and_future_timestamps_are_refused(offset):
    ts = _at(offset)
    with pytest.raises(sso.SsoRefused) as refused:
        _verify(MEMBER, ts, sso.sign(MEMBER, ts, SECRET))
    assert refused.value.status == 401
    assert "too old" in refused.value.detail


def test_without_a_secret_the_stream_is_not_configured():
    ts = _at(0)
    with pytest.raises(sso.StreamNotConfigured) as refused:
        sso.verify(MEMBER, str(ts), sso.sign(MEMBER, ts, ""), secret="", max_skew=SKEW, now=NOW)
    assert refused.value.status == 503


async def test_a_token_is_accepted_once_across_processes_sharing_the_database(database_url):
    # Two engines, as two server processes would have: the database is the only shared part.
    first, second = Database(database_url), Database(database_url)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        ts = int(now.timestamp())
        identity = sso.verify(
            MEMBER, str(ts), sso.sign(MEMBER, ts, SECRET), secret=SECRET, max_skew=SKEW, now=now
        )
        async with first.sessions() as session:
            await sso.claim(session, identity, SKEW, now)
        for db in (second, first):
            async with db.sessions() as session:
                with pytest.raises(sso.SsoReplayed) as refused:
                    await sso.claim(session, identity, SKEW, now)
                assert refused.value.status == 403
        # Another token of the same member, a second later, is a new sign-in.
        later = sso.verify(
            MEMBER, str(ts + 1), sso.sign(MEMBER, ts + 1, SECRET), secret=SECRET,
            max_skew=SKEW, now=now,
        )  # fmt: skip
        async with second.sessions() as session:
            await sso.claim(session, later, SKEW, now)
    finally:
        await first.dispose()
        await second.dispose()


async def test_used_tokens_are_forgotten_once_they_could_no_longer_pass(database_url):
    from sqlalchemy import func, select

    from empause.store.models import UsedSsoToken

    db = Database(database_url)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        old_ts = int((now - timedelta(hours=1)).timestamp())
        old = sso.SsoIdentity(MEMBER, old_ts, sso.sign(MEMBER, old_ts, SECRET))
        async with db.sessions() as session:
            await sso.claim(session, old, SKEW, now - timedelta(hours=1))
        ts = int(now.timestamp())
        fresh = sso.SsoIdentity(MEMBER, ts, sso.sign(MEMBER, ts, SECRET))
        async with db.sessions() as session:
            await sso.claim(session, fresh, SKEW, now)
            hashes = set(await session.scalars(select(UsedSsoToken.token_hash)))
            assert hashes == {sso.token_hash(fresh.token)}
            assert await session.scalar(select(func.count()).select_from(UsedSsoToken)) == 1
    finally:
        await db.dispose()


def test_the_settings_read_the_stream_variables(monkeypatch):
    from empause.config import (
        DEMO_HOOTSUITE_APP_SECRET,
        Settings,
        dashboard_origins,
        secret_problems,
        with_demo_secrets,
    )

    monkeypatch.setenv("EMPAUSE_SSO_MAX_SKEW", "120")
    monkeypatch.setenv(
        "EMPAUSE_HOOTSUITE_DASHBOARD_ORIGINS", "https://hootsuite.com, https://x.hootsuite.com/"
    )
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.sso_max_skew == timedelta(seconds=120)
    assert dashboard_origins(settings) == ["https://hootsuite.com", "https://x.hootsuite.com"]
    assert Settings(_env_file=None, sso_max_skew="5m").sso_max_skew == timedelta(minutes=5)  # type: ignore[call-arg]
    monkeypatch.delenv("EMPAUSE_SSO_MAX_SKEW")
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    assert default.sso_max_skew == timedelta(seconds=300)
    assert default.hootsuite_app_secret == ""

    real = {"secret_key": "k" * 40, "webhook_secret": "w" * 40}

    def problems(app_secret: str) -> list[str]:
        return secret_problems(
            default.model_copy(update={**real, "hootsuite_app_secret": app_secret})
        )

    assert problems("") == []  # the stream is optional: off without a secret
    assert problems("a-real-app-secret-from-the-directory") == []
    assert "demo value" in problems(DEMO_HOOTSUITE_APP_SECRET)[0]
    assert "shorter" in problems("short")[0]
    assert with_demo_secrets(default).hootsuite_app_secret == DEMO_HOOTSUITE_APP_SECRET
