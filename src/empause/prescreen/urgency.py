"""Which inbox work is most urgent: events for messages due soonest.

A webhook carries only a message id, so the due times come from two cheap listings of the
platform, shared by a whole batch: what is scheduled in the next window, and what awaits
approval. Events for messages found there go first, soonest-due first; the rest (due later,
or ids that do not exist, as in a flood of forged events) follow in arrival order.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from empause.platforms.port import Platform, PlatformError

REFRESH_SECONDS = 1.0  # one pair of listings serves every batch within this


class DueTimes:
    def __init__(self, platform: Platform, window: timedelta):
        self._platform = platform
        self._window = window
        self._due: dict[str, datetime] = {}
        self._read_at = -REFRESH_SECONDS

    async def get(self, now: datetime) -> dict[str, datetime]:
        """Message id -> due time, for what is scheduled soon or awaiting approval."""
        if time.monotonic() - self._read_at < REFRESH_SECONDS:
            return self._due
        due: dict[str, datetime] = {}
        try:
            async for page in self._platform.list_due(now, now + self._window):
                due.update((m.id, m.scheduled_send_time) for m in page)
            due.update((m.id, m.scheduled_send_time) for m in await self._platform.pending())
        except PlatformError:
            return self._due  # ordering is an optimisation: never a reason to stop
        self._due, self._read_at = due, time.monotonic()
        return due
