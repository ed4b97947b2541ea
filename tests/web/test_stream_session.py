"""The stream's own session token: signed, bound to one live session row (member and
organization), expiring, and revocable through that row."""

from __future__ import annotations

import time

import pytest
from itsdangerous.timed import TimestampSigner

from empause.store.db import Database
from empause.web import queries, sessions
from empause.web.stream import session as stream_session

KEY = "stream-session-test-secret-key-0123456789"
PROFILE = {"member_id": "19000002", "email": "em@example.org", "full_name": "Emery Manager"}


@pytest.fixture
async def started(database_url):
    db = Database(database_url)
    async with db.sessions() as session:
        await queries.ensure_organization(session, "832420", "501006")
        await queries.ensure_organization(session, "833420", "502006")
        who = await stream_session.start(session, "832420", PROFILE)
        await session.commit()
    yield db, who
    await db.dispose()


async def test_a_token_names_its_live_session(started):
    db, who = started
    tokens = stream_session.StreamTokens(KEY)
    token = tokens.issue(who)
    async with db.sessions() as session:
        found = await tokens.load(session, token)
        assert found is not None
        assert (found.member_id, found.organization_id) == ("19000002", "832420")
        assert found.issued_age < 5
        # The row's own (cookie) token was never handed out; it cannot be used as a cookie.
        assert await sessions.load(session, token) is None


async def test_forged_foreign_and_expired_tokens_are_refused(started, monkeypatch):
    db, who = started
    tokens = stream_session.StreamTokens(KEY)
    token = tokens.issue(who)
    other_key = stream_session.StreamTokens("another-secret-key-for-the-stream-0123")
    ttl = stream_session.TOKEN_TTL.total_seconds()
    with monkeypatch.context() as past:
        past.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time() - ttl - 5))
        expired = tokens.issue(who)
    rebound = tokens._serializer.dumps({"s": who.session_id, "m": "19000003", "o": "832420"})
    moved = tokens._serializer.dumps({"s": who.session_id, "m": "19000002", "o": "833420"})
    async with db.sessions() as session:
        for bad in (
            None, "", token[:-1], token + "x", other_key.issue(who), expired,
            rebound, moved, "x" * 10_000,
        ):  # fmt: skip
            assert await tokens.load(session, bad) is None, bad


async def test_revoking_the_row_ends_the_token(started):
    db, who = started
    tokens = stream_session.StreamTokens(KEY)
    token = tokens.issue(who)
    async with db.sessions() as session:
        assert await sessions.revoke_member(session, "EM@example.org") == 1
        await session.commit()
    async with db.sessions() as session:
        assert await tokens.load(session, token) is None
