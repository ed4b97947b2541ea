"""Emailed sign-in links, for organizations whose platform has no sign-in for people
(SocialHub): who may get one, the single-use token, and the mail that carries it.

A link is a random token; only its SHA-256 is stored, with the organization and the member
it signs in, and an expiry (`LINK_TTL`). It is consumed by one atomic UPDATE, so it works
once across every process sharing the database. Whether an address gets a link never shows
in the answer (no account enumeration); an address gets at most `LINKS_PER_WINDOW` links per
`RATE_WINDOW`. Membership of the emergency team is not decided here: the session is created
by the same code as for Hootsuite, which asks the platform.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from empause.domain.organization import PlatformName
from empause.domain.timeutil import utcnow
from empause.notify.mail import Mailer, MailError
from empause.store.db import Database
from empause.store.models import SigninLink
from empause.web.tenants import Tenant

log = logging.getLogger(__name__)

LINK_TTL = timedelta(minutes=15)
RATE_WINDOW = timedelta(minutes=15)
LINKS_PER_WINDOW = 3  # links one address may be sent per RATE_WINDOW
DIRECTORY_TTL = 30.0  # seconds a platform's user list is reused for link requests
TOKEN_BYTES = 32
EMAIL_MAX = 254
LINK_PATH = "/auth/email/link"
EMAIL_PLATFORMS = frozenset({PlatformName.SOCIALHUB})  # platforms signed in by emailed link


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(value: str) -> str | None:
    """The address as we compare it (trimmed, lower-case), or None if it cannot be one."""
    email = value.strip().lower()
    local, at, domain = email.partition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(email) > EMAIL_MAX
        or any(c.isspace() or not c.isprintable() for c in email)
    ):
        return None
    return email


def uses_email_links(tenant: Tenant) -> bool:
    return tenant.org.platform in EMAIL_PLATFORMS


@dataclass(frozen=True, slots=True)
class Member:
    """A person the platform lists for the organization."""

    member_id: str
    email: str
    full_name: str


class Directory:
    """The people each email-link organization's platform lists (SocialHub `GET /users`),
    reused for `DIRECTORY_TTL` so a flood of link requests costs the platform little."""

    def __init__(self, ttl: float = DIRECTORY_TTL):
        self.ttl = ttl
        self._cache: dict[str, tuple[float, list[Member]]] = {}

    async def members(self, tenant: Tenant, max_age: float | None = None) -> list[Member]:
        age = self.ttl if max_age is None else max_age
        cached = self._cache.get(tenant.organization_id)
        if cached is not None and time.monotonic() - cached[0] < age:
            return cached[1]
        found = [_member(u) for u in await _list_users(tenant)]
        members = [m for m in found if m is not None]
        self._cache[tenant.organization_id] = (time.monotonic(), members)
        return members

    async def find(self, tenant: Tenant, email: str, max_age: float | None = None) -> Member | None:
        for member in await self.members(tenant, max_age):
            if member.email == email:
                return member
        return None

    async def by_id(self, tenant: Tenant, member_id: str) -> Member | None:
        """Asked now (no cache): is this person still listed?"""
        for member in await self.members(tenant, max_age=0.0):
            if member.member_id == member_id:
                return member
        return None


async def _list_users(tenant: Tenant) -> list[dict[str, Any]]:
    platform = tenant.engine.ctx.platform
    client = getattr(platform, "client", None)
    users = getattr(client, "users", None)
    if users is None:
        raise LookupError(f"{tenant.org.platform} does not list its users")
    listed = await users()
    return [u for u in listed if isinstance(u, dict)]


def _member(user: dict[str, Any]) -> Member | None:
    member_id, email = user.get("_id"), normalize_email(str(user.get("email") or ""))
    if not member_id or email is None:
        return None
    name = " ".join(str(user.get(k) or "").strip() for k in ("firstName", "lastName")).strip()
    return Member(str(member_id), email, name)


@dataclass(frozen=True, slots=True)
class Grant:
    """What a consumed link signs in."""

    organization_id: str
    member_id: str
    email: str


async def sent_recently(session: AsyncSession, email: str) -> int:
    since = utcnow() - RATE_WINDOW
    count = await session.scalar(
        select(func.count()).select_from(SigninLink)
        .where(SigninLink.email == email, SigninLink.created_at > since)
    )  # fmt: skip
    return int(count or 0)


async def issue(session: AsyncSession, organization_id: str, member: Member) -> str:
    """A new link's token (only its hash is stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    session.add(
        SigninLink(
            token_hash=token_hash(token), organization_id=organization_id,
            member_id=member.member_id, email=member.email, created_at=now,
            expires_at=now + LINK_TTL,
        )
    )  # fmt: skip
    await session.flush()
    return token


def _plausible(token: str | None) -> bool:
    return bool(token) and len(token or "") <= 4 * TOKEN_BYTES


async def peek(session: AsyncSession, token: str | None) -> SigninLink | None:
    """The live link for a token (not used, not expired), without using it."""
    if not _plausible(token):
        return None
    assert token is not None
    row = await session.get(SigninLink, token_hash(token))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


async def consume(session: AsyncSession, token: str | None) -> Grant | None:
    """Use the link: exactly one caller ever gets its grant, and only before it expires."""
    if not _plausible(token):
        return None
    assert token is not None
    hashed, now = token_hash(token), utcnow()
    result = await session.execute(
        update(SigninLink)
        .where(SigninLink.token_hash == hashed, SigninLink.used_at.is_(None),
               SigninLink.expires_at > now)
        .values(used_at=now)
    )  # fmt: skip
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return None
    row = await session.get(SigninLink, hashed)
    assert row is not None
    return Grant(row.organization_id, row.member_id, row.email)


async def forget_old(session: AsyncSession) -> None:
    """Rows that can neither sign in nor count against the rate limit any more."""
    await session.execute(delete(SigninLink).where(SigninLink.expires_at < utcnow() - RATE_WINDOW))


def mail_text(links: Iterable[tuple[str, str]]) -> str:
    lines = ["Someone (we hope you) asked to sign in to Emergency Pause.", ""]
    for label, url in links:
        lines += [f"{label}:", f"  {url}", ""]
    minutes = int(LINK_TTL.total_seconds() // 60)
    lines += [
        f"Each link works once, within {minutes} minutes. If you did not ask for this, "
        "ignore this mail: nobody can sign in without opening it.",
    ]
    return "\n".join(lines)


class EmailSignin:
    """Sends the links (in the background of the request that asked, so the answer takes
    the same time whether or not the address is known)."""

    def __init__(self, public_url: str, mailer: Mailer | None, directory: Directory | None = None):
        self.public_url = public_url.rstrip("/")
        self.mailer = mailer
        self.directory = directory or Directory()

    def link_url(self, token: str) -> str:
        return f"{self.public_url}{LINK_PATH}?token={token}"

    async def deliver(self, db: Database, tenants: Iterable[Tenant], email: str) -> int:
        """Send `email` a link for each protected organization that lists it; returns how
        many links were sent (0 for an unknown or rate-limited address)."""
        if self.mailer is None:
            return 0
        async with db.sessions() as session:
            if await sent_recently(session, email) >= LINKS_PER_WINDOW:
                log.info(
                    "sign-in link refused: rate limit", extra={"email_hash": token_hash(email)[:12]}
                )
                return 0
            links: list[tuple[str, str]] = []
            for tenant in tenants:
                if not uses_email_links(tenant):
                    continue
                try:
                    member = await self.directory.find(tenant, email)
                except Exception:
                    log.exception("could not list the organization's users",
                                  extra={"organization_id": tenant.organization_id})  # fmt: skip
                    continue
                if member is not None:
                    token = await issue(session, tenant.organization_id, member)
                    links.append((f"Sign in to {tenant.org.label}", self.link_url(token)))
            if not links:
                return 0
            await forget_old(session)
            await session.commit()
        try:
            await self.mailer.send(email, "Your Emergency Pause sign-in link", mail_text(links))
        except MailError:
            log.exception("could not send a sign-in link")
            return 0
        log.info("sign-in link sent", extra={"links": len(links)})
        return len(links)
