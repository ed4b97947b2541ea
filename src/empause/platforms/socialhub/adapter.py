"""The SocialHub adapter: the port's `Platform` for one account, on one user's API token.

SocialHub edits a scheduled post in place, so nothing is ever deleted or re-created: a shift
is one PATCH of the post's `publishTime` (same `_id`, same content), a hold unschedules it
(-> draft), and `restore` PATCHes the time back and schedules the post again where it is a
draft. Writes whose answer was lost raise Ambiguous; `find_restored` reads the post back
(through its post group: SocialHub has no GET of one post) to learn what happened.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx

from empause.domain.model import Message
from empause.platforms.port import AlreadySent, Capabilities, NotFound, Permanent, Transient
from empause.platforms.ratelimit import Limiter, limiter_for
from empause.platforms.socialhub.client import (
    PAGE_MAX,
    Conflict,
    SocialHubClient,
    format_time_ms,
)
from empause.platforms.socialhub.posts import (
    DRAFT,
    FAILED_TO_PUBLISH,
    LIVE,
    NEEDS_APPROVAL,
    PRE_DRAFT,
    PUBLISHED,
    PUBLISHING,
    SCHEDULED,
    message_from_post,
    publish_time,
    same_instant,
)

__all__ = ["SocialHubPlatform", "message_from_post"]

OBJECT_ID = re.compile(r"^[a-f0-9]{24}$")
OUT_OF_SCHEDULE = (PRE_DRAFT, DRAFT, FAILED_TO_PUBLISH)  # restore schedules these again
GONE_OUT = (PUBLISHING, PUBLISHED)  # too late to move
_NETWORKS = {
    "FACEBOOK": "Facebook",
    "TWITTER": "X (Twitter)",
    "INSTAGRAM_BUSINESS": "Instagram",
    "PINTEREST": "Pinterest",
    "LINKEDIN": "LinkedIn",
    "YOUTUBE": "YouTube",
    "TIKTOK": "TikTok",
    "PLACEHOLDERS": "Placeholder",
}


def channel_label(channel: dict[str, Any]) -> str:
    """'Facebook Sandbox County'; the id stands in for a missing name."""
    kind = str(channel.get("socialNetwork") or "")
    network = _NETWORKS.get(kind, kind.title() or "Channel")
    name = channel.get("name") or channel.get("uniqueName") or channel.get("_id")
    return f"{network} {name}"


class SocialHubPlatform:
    """One SocialHub account, acting through one (admin) user's API token."""

    name = "socialhub"

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        http: httpx.AsyncClient | None = None,
        rate_limit: float = 20,
        timeout: float = 10.0,
        limiter: Limiter | None = None,
    ):
        """`limiter` paces the account (the composition root's shared budget); by default
        this process's own limiter of the account behind the token."""
        self.base_url = base_url.rstrip("/")
        self.capabilities = Capabilities(
            moves_in_place=True, webhooks=False, requests_per_second=rate_limit
        )
        # The budget belongs to the account behind the token; the token names it here
        # without the secret itself being kept as a registry key.
        account = "token:" + hashlib.sha256(access_token.encode()).hexdigest()[:16]
        self.client = SocialHubClient(
            self.base_url, access_token, http=http, timeout=timeout,
            limiter=limiter or limiter_for(self.base_url, account, rate_limit),
        )  # fmt: skip
        self._groups: dict[str, str] = {}  # post id -> post group id, as learned from reads

    @property
    def api_calls(self) -> int:
        return self.client.api_calls

    async def aclose(self) -> None:
        await self.client.aclose()

    def _message(self, raw: dict[str, Any]) -> Message:
        message = message_from_post(raw)
        group = raw.get("postGroupId")
        if group:
            self._groups[message.id] = str(group)
        return message

    # -- reading ----------------------------------------------------------------------------

    async def _walk(
        self, statuses: tuple[str, ...], start: datetime | None, end: datetime | None
    ) -> AsyncIterator[list[Message]]:
        """Pages of posts with these statuses by publishTime, soonest first.

        Keyset pagination on publishTime (each page starts at the last time seen, with
        what was already seen skipped), not offsets: the engine moves posts out of the window
        while later pages are read, and an offset would then skip posts it never saw.
        A full page at one single instant is stepped through by offset.
        """
        seen: set[str] = set()
        since, offset = start, 0
        while True:
            _, items = await self.client.list_posts(
                statuses=statuses, since=since, until=end, sort_by="publishTime",
                order="asc", offset=offset, count=PAGE_MAX,
            )  # fmt: skip
            page = []
            for raw in items:
                message = self._message(raw)
                due = publish_time(raw)
                if message.id in seen or due is None:
                    continue
                if (start is not None and due < start) or (end is not None and due >= end):
                    continue  # `until` is inclusive upstream: keep to [start, end) here
                seen.add(message.id)
                page.append(message)
            if page:
                yield page
            if len(items) < PAGE_MAX:
                return
            last = publish_time(items[-1])
            if last is not None and (since is None or last > since):
                since, offset = last, 0
            else:
                offset += len(items)

    async def list_due(self, start: datetime, end: datetime) -> AsyncIterator[list[Message]]:
        """Scheduled posts due in [start, end), page by page as they arrive, soonest first."""
        async for page in self._walk((SCHEDULED,), start, end):
            yield page

    async def _read(self, post_id: str, group_id: str | None) -> dict[str, Any] | None:
        """The post as it is now: through its post group when known, else a scan, newest
        first (what is read back is usually recent), that remembers every post's group."""
        group_id = group_id or self._groups.get(post_id)
        offset = 0
        while True:
            total, items = await self.client.list_posts(
                post_group_id=group_id, sort_by="createdTime", order="desc", offset=offset,
                count=PAGE_MAX,
            )  # fmt: skip
            for raw in items:
                if raw.get("postGroupId"):  # every post seen is one call away next time
                    self._groups[str(raw.get("_id"))] = str(raw["postGroupId"])
                if str(raw.get("_id")) == post_id:
                    return raw
            offset += len(items)
            if not items or offset >= total:
                return None

    async def _read_back(self, message: Message) -> dict[str, Any] | None:
        group = message.raw.get("postGroupId")
        return await self._read(message.id, str(group) if group else None)

    async def get(self, message_id: str) -> Message | None:
        if not OBJECT_ID.match(message_id):
            return None  # no SocialHub post has such an id
        raw = await self._read(message_id, None)
        return self._message(raw) if raw is not None else None

    # -- moving -----------------------------------------------------------------------------

    async def neutralise(self, message: Message) -> None:
        """Unschedule it (-> draft). NotFound when it is not scheduled (any more), AlreadySent
        when it went out; a post rescheduled under us is Transient (try again)."""
        try:
            await self.client.unschedule(message.id)
            return
        except Conflict:
            current = await self._read_back(message)
        if current is None:
            raise NotFound(f"post {message.id} not found")
        status = str(current.get("status"))
        if status in GONE_OUT:
            raise AlreadySent(f"post {message.id} is {status}")
        if status == SCHEDULED:
            raise Transient(f"post {message.id} was scheduled again while we unscheduled it")
        raise NotFound(f"post {message.id} is not scheduled (it is {status})")

    async def restore(self, message: Message, when: datetime) -> Message:
        """Move the post to `when` in place (one PATCH), and schedule it again if it is out of
        the schedule (a held draft). May raise Ambiguous: then `find_restored` reads it back."""
        try:
            raw = await self.client.update_post(message.id, {"publishTime": format_time_ms(when)})
        except Conflict as exc:
            current = await self._read_back(message)
            status = str(current.get("status")) if current else None
            if status in GONE_OUT:
                raise AlreadySent(f"post {message.id} is {status}: too late to move") from exc
            raise
        if str(raw.get("status")) in OUT_OF_SCHEDULE:
            try:
                raw = await self.client.schedule(message.id)
            except Conflict:  # scheduled meanwhile (or by an earlier, unanswered attempt)
                found = await self.find_restored(message, when, set())
                if found is None:
                    raise
                return found
        moved = self._message(raw)
        if str(raw.get("status")) not in LIVE or not same_instant(publish_time(raw), when):
            raise Permanent(f"post {message.id} did not move to {format_time_ms(when)}: "
                            f"{raw.get('status')} at {raw.get('publishTime')}")  # fmt: skip
        return moved

    async def find_restored(
        self, message: Message, when: datetime, exclude: set[str]
    ) -> Message | None:
        """The post itself, if an earlier attempt already put it in the schedule at `when`
        (moved in place: the id is the same, so `exclude` does not apply)."""
        raw = await self._read_back(message)
        if raw is None or str(raw.get("status")) not in LIVE:
            return None
        return self._message(raw) if same_instant(publish_time(raw), when) else None

    # -- approval and authorization -------------------------------------------------------

    async def pending(self) -> list[Message]:
        """Posts awaiting approval (prescreening polls this: SocialHub sends no webhooks)."""
        return [m async for page in self._walk((NEEDS_APPROVAL,), None, None) for m in page]

    async def approve(self, message_id: str, sequence_number: int) -> None:
        await self.client.approve(message_id)

    async def reject(self, message_id: str, sequence_number: int, reason: str) -> None:
        await self.client.reject(message_id, reason or None)

    async def member_team_ids(self, member_id: str) -> set[str]:
        """Read now from SocialHub (never cached: membership can change mid-emergency)."""
        teams = await self.client.teams()
        return {
            str(t["_id"]) for t in teams
            if t.get("_id") is not None and member_id in (t.get("users") or [])
        }  # fmt: skip

    async def team_ids(self) -> set[str]:
        return {str(t["_id"]) for t in await self.client.teams() if t.get("_id") is not None}

    async def account_id(self) -> str:
        """The account the token belongs to (the organization's id here)."""
        me = await self.client.me()
        account = me.get("accountId")
        if not account:
            raise Permanent("SocialHub did not say which account the token belongs to")
        return str(account)

    async def profile_names(self) -> dict[str, str]:
        channels = await self.client.channels()
        return {str(c["_id"]): channel_label(c) for c in channels if c.get("_id") is not None}
