"""Dashboard sessions, kept on the server: the cookie is a random token and nothing else.

A session row holds who signed in (identity, never authority: membership is asked of the
platform at each action) and the CSRF token. Signing out revokes the row, so a copied cookie
stops working everywhere at once; `empause sessions revoke --member EMAIL` revokes all of a
member's rows. Sessions end after `IDLE` unused or `ABSOLUTE` after sign-in, whichever first.

Before sign-in, the OAuth `state` and PKCE verifier travel in a short-lived signed cookie of
their own (no row for anonymous visitors: a flood of /auth/login writes nothing).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.timeutil import utcnow
from empause.store.models import WebSession
from empause.web import crypto

COOKIE = "empause_session"
CHOICE_COOKIE = "empause_choice"
LOGIN_COOKIE = "empause_login"
IDLE = timedelta(hours=8)
ABSOLUTE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
LOGIN_TTL = 600  # seconds: an authorization code lives 10 minutes upstream; so does our state
TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The member a live session belongs to, as they signed in (identity only: whether they
    may act is asked of the platform at the moment of the action)."""

    session_id: int
    organization_id: str
    member_id: str
    email: str
    full_name: str
    timezone: str
    emergency: bool  # at sign-in; only decides which controls a page shows
    csrf: str

    @property
    def label(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signed_in(row: WebSession) -> SignedIn:
    return SignedIn(
        session_id=row.id,
        organization_id=row.organization_id,
        member_id=row.member_id,
        email=row.email,
        full_name=row.full_name,
        timezone=row.timezone,
        emergency=row.emergency,
        csrf=row.csrf,
    )


async def create(session: AsyncSession, organization_id: str, profile: dict[str, Any]) -> str:
    """A new session (always a new token: no fixation); returns the cookie's value."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    session.add(
        WebSession(
            organization_id=organization_id,
            token_hash=_hash(token),
            member_id=str(profile["member_id"]),
            email=str(profile.get("email") or ""),
            full_name=str(profile.get("full_name") or ""),
            timezone=str(profile.get("timezone") or "UTC"),
            emergency=bool(profile.get("emergency")),
            csrf=crypto.new_csrf_token(),
            created_at=now,
            last_seen_at=now,
        )
    )
    await session.flush()
    return token


async def load(session: AsyncSession, token: str | None) -> SignedIn | None:
    """The live session for a cookie's token, or None (unknown, revoked, idle, too old)."""
    if not token or len(token) > 4 * TOKEN_BYTES:
        return None
    row = (
        await session.execute(select(WebSession).where(WebSession.token_hash == _hash(token)))
    ).scalar_one_or_none()
    return await _live(session, row)


async def load_by_id(session: AsyncSession, session_id: int) -> SignedIn | None:
    """The live session with this id (the app stream's, whose token travels signed in a
    header rather than in a cookie), or None; the same expiry and revocation rules."""
    return await _live(session, await session.get(WebSession, session_id))


async def _live(session: AsyncSession, row: WebSession | None) -> SignedIn | None:
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or now - row.last_seen_at > IDLE
        or now - row.created_at > ABSOLUTE
    ):
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        await session.commit()
    return _signed_in(row)


async def revoke(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.execute(
            update(WebSession)
            .where(WebSession.token_hash == _hash(token), WebSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


async def revoke_member(session: AsyncSession, email: str) -> int:
    """End every live session of the member with this email; returns how many."""
    result = await session.execute(
        update(WebSession)
        .where(func.lower(WebSession.email) == email.lower(), WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def secure_cookies(public_url: str) -> bool:
    return public_url.startswith("https://")


def set_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, max_age=int(ABSOLUTE.total_seconds()), httponly=True, secure=secure,
        samesite="lax", path="/",
    )  # fmt: skip


def clear_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(COOKIE, httponly=True, secure=secure, samesite="lax", path="/")


def cookie_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


class LoginState:
    """The pending sign-in's `state` and PKCE verifier, in a signed cookie that expires."""

    def __init__(self, secret_key: str):
        self._serializer = URLSafeTimedSerializer(
            crypto.derive_key(secret_key, "login-state").hex(), salt="empause-login"
        )

    def issue(self, response: Response, state: str, verifier: str, secure: bool) -> None:
        value = self._serializer.dumps({"state": state, "verifier": verifier})
        response.set_cookie(
            LOGIN_COOKIE, value, max_age=LOGIN_TTL, httponly=True, secure=secure,
            samesite="lax", path="/auth/",
        )  # fmt: skip

    def read(self, request: Request) -> dict[str, str] | None:
        """The pending sign-in, or None if absent, forged or older than LOGIN_TTL."""
        value = request.cookies.get(LOGIN_COOKIE)
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=LOGIN_TTL)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("state", "verifier")
        ):
            return None
        return {"state": data["state"], "verifier": data["verifier"]}

    def issue_choice(self, response: Response, pending: dict[str, Any], secure: bool) -> None:
        """A member of several protected organizations: what they may pick from, signed."""
        response.set_cookie(
            CHOICE_COOKIE, self._serializer.dumps({"choice": pending}), max_age=LOGIN_TTL,
            httponly=True, secure=secure, samesite="lax", path="/auth/",
        )  # fmt: skip

    def read_choice(self, request: Request) -> dict[str, Any] | None:
        value = request.cookies.get(CHOICE_COOKIE)
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=LOGIN_TTL)
        except BadSignature:
            return None
        choice = data.get("choice") if isinstance(data, dict) else None
        return choice if isinstance(choice, dict) else None

    @staticmethod
    def clear(response: Response, secure: bool) -> None:
        for name in (LOGIN_COOKIE, CHOICE_COOKIE):
            response.delete_cookie(
                name, httponly=True, secure=secure, samesite="lax", path="/auth/"
            )

