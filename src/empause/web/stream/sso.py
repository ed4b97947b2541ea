"""App Directory single sign-on: `token` = lowercase hex SHA-512 of `i + ts + secret`.

Checked in constant time, the timestamp bounded both ways by the allowed skew, and each
accepted token recorded in the database until it could no longer pass the skew check, so a
replay is refused by every process that shares the database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from empause.store.models import UsedSsoToken
from empause.web.errors import Forbidden, NotSignedIn, Unavailable

TOKEN_HEX_LENGTH = 128  # a SHA-512 in hex
MEMBER_ID = re.compile(r"^[0-9]{1,32}$")  # Hootsuite member ids are numbers
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")  # unix seconds
REPLAY_MARGIN = timedelta(seconds=1)  # kept a little past the skew: no edge where both pass


class SsoRefused(NotSignedIn):
    """401: the request is not signed by Hootsuite, or not recently."""

    title = "Single sign-on refused"


class SsoReplayed(Forbidden):
    """403: a genuine token, already used once."""

    title = "Single sign-on link already used"


class StreamNotConfigured(Unavailable):
    title = "The app stream is not configured"


@dataclass(frozen=True, slots=True)
class SsoIdentity:
    """Who Hootsuite vouches for, and when it did (not yet checked against replays)."""

    member_id: str
    timestamp: int
    token: str


def sign(member_id: str, timestamp: int | str, secret: str) -> str:
    """The token Hootsuite sends: SHA-512 of the concatenation, lowercase hex."""
    return hashlib.sha512(f"{member_id}{timestamp}{secret}".encode()).hexdigest()


def verify(
    member_id: str | None,
    timestamp: str | None,
    token: str | None,
    *,
    secret: str,
    max_skew: timedelta,
    now: datetime,
) -> SsoIdentity:
    """The signed identity, or a refusal that says what to do (never which part was wrong
    beyond what the member can act on)."""
    if not secret:
        raise StreamNotConfigured(
            "This installation has no App Directory secret (EMPAUSE_HOOTSUITE_APP_SECRET), so "
            "it cannot sign you in from Hootsuite. Ask its administrator to set it."
        )
    again = "Open the stream again from your Hootsuite dashboard."
    if not member_id or not timestamp or not token:
        raise SsoRefused(f"This page needs Hootsuite's single sign-on parameters. {again}")
    if (
        not MEMBER_ID.match(member_id)
        or not TIMESTAMP.match(timestamp)
        or len(token) != TOKEN_HEX_LENGTH
    ):
        raise SsoRefused(f"The single sign-on parameters are malformed. {again}")
    expected = sign(member_id, timestamp, secret)
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise SsoRefused(f"The single sign-on token is not signed by Hootsuite. {again}")
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(now - signed_at) > max_skew:
        raise SsoRefused(
            f"The single sign-on link is too old (or from the future: check the server's "
            f"clock); it is valid for {int(max_skew.total_seconds())} seconds. {again}"
        )
    return SsoIdentity(member_id, int(timestamp), token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def claim(
    session: AsyncSession, identity: SsoIdentity, max_skew: timedelta, now: datetime
) -> None:
    """Record the token as used (committed), or refuse it if any process already has.

    Rows are kept until the token's timestamp is past the skew (then `verify` refuses it
    anyway), and expired rows are deleted here, so the table stays small.
    """
    expires_at = datetime.fromtimestamp(identity.timestamp, UTC) + max_skew + REPLAY_MARGIN
    await session.execute(delete(UsedSsoToken).where(UsedSsoToken.expires_at < now))
    session.add(
        UsedSsoToken(
            token_hash=token_hash(identity.token),
            member_id=identity.member_id,
            expires_at=expires_at,
        )
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise SsoReplayed(
            "This single sign-on link has already been used; each one works once. "
            "Refresh the stream from your Hootsuite dashboard."
        ) from None
