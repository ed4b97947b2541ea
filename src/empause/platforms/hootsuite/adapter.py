"""The Hootsuite adapter: the port's `Platform` for one organization, on its app token.

Hootsuite cannot edit a scheduled message, so `neutralise` deletes it and `restore`
re-creates it (a new id) from the original JSON; `find_restored` is how a caller learns
whether an ambiguous create actually happened, so a retry never makes a duplicate.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from empause.domain.model import Message, MessageState, is_copy_of
from empause.domain.timeutil import split_window
from empause.platforms.hootsuite import auth
from empause.platforms.hootsuite.client import HootsuiteClient
from empause.platforms.hootsuite.messages import create_body, message_from_json
from empause.platforms.port import Capabilities, NotFound, Permanent
from empause.platforms.ratelimit import Limiter, limiter_for

if TYPE_CHECKING:
    from empause.config import Settings

__all__ = ["HootsuitePlatform", "OrganizationToken", "message_from_json"]

MAX_WINDOW = timedelta(days=28)  # GET /v1/messages refuses longer ranges (40020)
PAGE_LIMIT = 100
_GONE_STATES = {MessageState.DELETED.value}


class OrganizationToken:
    """The organization_app token, fetched lazily, re-obtained when expired or refused.

    Concurrent callers share one fetch; a task reporting a refused token only triggers a new
    fetch if no other task has replaced that token already.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        client_id: str,
        client_secret: str,
        organization_id: str,
    ):
        self._http = http
        self._base_url = base_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._organization_id = organization_id
        self._tokens: auth.TokenSet | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.fetches = 0

    def _get_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    def _usable(self, refused: str | None) -> str | None:
        tokens = self._tokens
        if tokens is None or tokens.expired() or tokens.access_token == refused:
            return None
        return tokens.access_token

    async def __call__(self, refused: str | None = None) -> str:
        token = self._usable(refused)
        if token:
            return token
        async with self._get_lock():
            token = self._usable(refused)
            if token:
                return token
            self.fetches += 1
            self._tokens = await auth.organization_app_token(
                self._http, self._base_url, self._client_id, self._client_secret,
                self._organization_id,
            )  # fmt: skip
            return self._tokens.access_token


class HootsuitePlatform:
    """One Hootsuite organization, acting with the organization's app credentials."""

    name = "hootsuite"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        organization_id: str,
        *,
        http: httpx.AsyncClient | None = None,
        rate_limit: float = 20,
        timeout: float = 10.0,
        reviewer_type: str = "EXTERNAL",
        limiter: Limiter | None = None,
    ):
        """`limiter` paces the organization's account (e.g. `RateBudgets.budget_for(...)`,
        shared by every process); by default this process's own limiter of that account."""
        self.base_url = base_url.rstrip("/")
        self.organization_id = str(organization_id)
        self.capabilities = Capabilities(
            moves_in_place=False, webhooks=True, requests_per_second=rate_limit
        )
        self.reviewer_type = reviewer_type
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self.token = OrganizationToken(
            self._http, self.base_url, client_id, client_secret, self.organization_id
        )
        self.client = HootsuiteClient(
            self.base_url,
            self.token,
            http=self._http,
            limiter=limiter
            or limiter_for(self.base_url, f"organization:{self.organization_id}", rate_limit),
            timeout=timeout,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: object) -> HootsuitePlatform:
        return cls(
            settings.hootsuite_base_url,
            settings.hootsuite_client_id,
            settings.hootsuite_client_secret,
            settings.organization_id,
            rate_limit=settings.rate_limit,
            **kwargs,  # type: ignore[arg-type]
        )

    @property
    def api_calls(self) -> int:
        """Requests sent upstream, token requests included."""
        return self.client.api_calls + self.token.fetches

    async def aclose(self) -> None:
        await self.client.aclose()
        if self._own_http:
            await self._http.aclose()

    # -- reading ----------------------------------------------------------------------------

    async def list_due(self, start: datetime, end: datetime) -> AsyncIterator[list[Message]]:
        """SCHEDULED messages due in [start, end), page by page as they arrive, soonest first."""
        seen: set[str] = set()
        for window_start, window_end in split_window(start, end, MAX_WINDOW):
            cursor: str | None = None
            while True:
                items, cursor = await self.client.list_messages(
                    window_start, window_end, state=MessageState.SCHEDULED.value,
                    limit=PAGE_LIMIT, cursor=cursor,
                )  # fmt: skip
                page = []
                for raw in items:
                    message = message_from_json(raw)
                    # endTime's inclusiveness is not documented: enforce [start, end) here.
                    if message.id in seen or not start <= message.scheduled_send_time < end:
                        continue
                    seen.add(message.id)
                    page.append(message)
                if page:
                    yield sorted(page, key=lambda m: (m.scheduled_send_time, m.id))
                if not cursor:
                    break

    async def get(self, message_id: str) -> Message | None:
        try:
            raw = await self.client.get_message(message_id)
        except NotFound:
            return None
        message = message_from_json(raw)
        return None if message.state in _GONE_STATES else message

    # -- moving -----------------------------------------------------------------------------

    async def neutralise(self, message: Message) -> None:
        """DELETE it. NotFound / AlreadySent (40003) tell the caller why nothing was needed.

        The client retries a DELETE whose answer was lost; a 404 on that retry means the lost
        one worked, and the client then returns normally.
        """
        await self.client.delete_message(message.id)

    async def restore(self, message: Message, when: datetime) -> Message:
        """Re-create the message at `when` with every field of the original. May be Ambiguous."""
        created = await self.client.create_message(create_body(message, when))
        if not created:
            raise Permanent(f"creating a copy of {message.id} returned no message")
        return message_from_json(created[0])

    async def find_restored(
        self, message: Message, when: datetime, exclude: set[str]
    ) -> Message | None:
        """The copy an earlier (ambiguous) attempt made: same profile, time and text."""
        start = when.replace(microsecond=0)
        cursor: str | None = None
        while True:
            items, cursor = await self.client.list_messages(
                start, start + timedelta(seconds=1), social_profile_ids=[message.profile_id],
                limit=PAGE_LIMIT, cursor=cursor,
            )  # fmt: skip
            for raw in items:
                candidate = message_from_json(raw)
                if is_copy_of(candidate, message, start, exclude):
                    return candidate
            if not cursor:
                return None

    # -- approval and authorization ------------------------------------------------------

    async def pending(self) -> list[Message]:
        """Messages awaiting approval due within the next window Hootsuite lists (4 weeks)."""
        now = datetime.now(UTC)
        found: list[Message] = []
        cursor: str | None = None
        while True:
            items, cursor = await self.client.list_messages(
                now, now + MAX_WINDOW, state=MessageState.PENDING_APPROVAL.value,
                limit=PAGE_LIMIT, cursor=cursor,
            )  # fmt: skip
            found.extend(message_from_json(raw) for raw in items)
            if not cursor:
                return found

    async def approve(self, message_id: str, sequence_number: int) -> None:
        await self.client.approve_message(message_id, sequence_number, self.reviewer_type)

    async def reject(self, message_id: str, sequence_number: int, reason: str) -> None:
        await self.client.reject_message(message_id, sequence_number, reason, self.reviewer_type)

    async def member_team_ids(self, member_id: str) -> set[str]:
        """Read now from Hootsuite (never cached: membership can change mid-emergency)."""
        teams = await self.client.organization_member_teams(self.organization_id, member_id)
        return {str(team["id"]) for team in teams if team.get("id") is not None}

    async def team_ids(self) -> set[str]:
        teams = await self.client.organization_teams(self.organization_id)
        return {str(team.get("id")) for team in teams}

    async def profile_names(self) -> dict[str, str]:
        profiles = await self.client.social_profiles()
        return {str(p["id"]): profile_label(p) for p in profiles if p.get("id") is not None}


_NETWORKS = {
    "TWITTER": "X (Twitter)",
    "FACEBOOK": "Facebook",
    "FACEBOOKPAGE": "Facebook page",
    "FACEBOOKGROUP": "Facebook group",
    "LINKEDIN": "LinkedIn",
    "LINKEDINCOMPANY": "LinkedIn page",
    "INSTAGRAM": "Instagram",
    "INSTAGRAMBUSINESS": "Instagram",
    "YOUTUBECHANNEL": "YouTube",
    "PINTEREST": "Pinterest",
    "TIKTOKBUSINESS": "TikTok",
    "THREADS": "Threads",
}


def profile_label(profile: dict[str, Any]) -> str:
    """'Facebook page @citynews'; the id stands in for a username the network withholds."""
    kind = str(profile.get("type") or "")
    network = _NETWORKS.get(kind, kind.title() or "Profile")
    username = profile.get("socialNetworkUsername")
    return f"{network} @{username}" if username else f"{network} {profile.get('id')}"
