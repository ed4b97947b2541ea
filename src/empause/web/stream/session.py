"""The stream's own session, carried by the page rather than by a cookie.

Inside the Hootsuite dashboard our page is a cross-site iframe, where browsers block or
partition third-party cookies. So after single sign-on the page receives a short-lived token,
signed with a key derived from EMPAUSE_SECRET_KEY and bound to one server-side session row
(member and organization), and its script sends it in a header. The row makes it revocable
(`empause sessions revoke --member EMAIL`, or expiry); the signature's age makes a copied token
die within `TOKEN_TTL` unless the page keeps renewing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.timeutil import utcnow
from empause.web import crypto, sessions

HEADER = "X-Stream-Session"
TOKEN_TTL = timedelta(minutes=15)
RENEW_AFTER = TOKEN_TTL / 3  # a polling page gets a fresh token long before the old one dies
TOKEN_MAX_LENGTH = 512


@dataclass(frozen=True, slots=True)
class StreamViewer:
    """A live stream session: who (identity only: membership is asked at each action)."""

    signed_in: sessions.SignedIn
    issued_age: float  # seconds since the presented token was signed

    @property
    def member_id(self) -> str:
        return self.signed_in.member_id

    @property
    def organization_id(self) -> str:
        return self.signed_in.organization_id


class StreamTokens:
    def __init__(self, secret_key: str):
        self._serializer = URLSafeTimedSerializer(
            crypto.derive_key(secret_key, "stream-session").hex(), salt="empause-stream"
        )

    def issue(self, who: sessions.SignedIn) -> str:
        return self._serializer.dumps(
            {"s": who.session_id, "m": who.member_id, "o": who.organization_id}
        )

    def _claims(self, token: str | None) -> tuple[dict[str, Any], float] | None:
        if not token or len(token) > TOKEN_MAX_LENGTH:
            return None
        try:
            claims, signed_at = self._serializer.loads(
                token, max_age=int(TOKEN_TTL.total_seconds()), return_timestamp=True
            )
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(claims, dict) or not isinstance(claims.get("s"), int):
            return None
        return claims, (utcnow() - signed_at).total_seconds()

    async def load(self, session: AsyncSession, token: str | None) -> StreamViewer | None:
        """The live session the token is bound to, or None (forged, expired, revoked, or a
        row that is no longer this member's in this organization)."""
        found = self._claims(token)
        if found is None:
            return None
        claims, age = found
        who = await sessions.load_by_id(session, claims["s"])
        if who is None or (who.member_id, who.organization_id) != (
            claims.get("m"),
            claims.get("o"),
        ):
            return None
        return StreamViewer(who, age)


async def start(
    session: AsyncSession, organization_id: str, profile: dict[str, Any]
) -> sessions.SignedIn:
    """A server-side session row for the stream. Its cookie token is never handed out: the
    row is reached only through a signed stream token."""
    hidden = await sessions.create(session, organization_id, profile)
    who = await sessions.load(session, hidden)
    assert who is not None
    return who
