"""How many scheduled posts a pause would move now: the count shown before the confirmation.

Read from the platform (the organization's own list of what is due in the horizon), counted
up to `PREVIEW_MAX` and shared for `PREVIEW_MAX_AGE` seconds, so opening the form spends at
most a few requests of the upstream budget, whoever opens it and however often.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from empause.domain.timeutil import utcnow

PREVIEW_MAX = 1000  # counted up to this; beyond it the page says "more than"
PREVIEW_MAX_AGE = 30.0  # seconds a count is shared


@dataclass(frozen=True, slots=True)
class Preview:
    count: int
    more: bool  # at least PREVIEW_MAX
    horizon: timedelta

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "more": self.more,
            "horizon_days": round(self.horizon.total_seconds() / 86400, 2),
        }


async def count_due(platform: Any, horizon: timedelta, most: int = PREVIEW_MAX) -> Preview:
    now = utcnow()
    count = 0
    pages = platform.list_due(now, now + horizon)
    try:
        async for page in pages:
            count += len(page)
            if count >= most:
                return Preview(most, True, horizon)
    finally:
        await pages.aclose()
    return Preview(count, False, horizon)


class SharedPreview:
    """One upstream count per organization per `max_age`, shared by every asker."""

    def __init__(self, max_age: float = PREVIEW_MAX_AGE):
        self._max_age = max_age
        self._cache: dict[str, tuple[float, Preview]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, organization_id: str, platform: Any, horizon: timedelta) -> Preview:
        hit = self._cache.get(organization_id)
        if hit and time.monotonic() - hit[0] <= self._max_age:
            return hit[1]
        lock = self._locks.setdefault(organization_id, asyncio.Lock())
        async with lock:
            hit = self._cache.get(organization_id)
            if hit and time.monotonic() - hit[0] <= self._max_age:
                return hit[1]
            preview = await count_due(platform, horizon)
            self._cache[organization_id] = (time.monotonic(), preview)
            return preview
