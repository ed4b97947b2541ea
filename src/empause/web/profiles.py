"""Social profile names for the dashboard, cached: they change rarely, and the page must
still render (with ids) when the platform cannot answer during an incident."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from empause.platforms.port import Platform, PlatformError

log = logging.getLogger(__name__)


class ProfileNames:
    def __init__(
        self,
        platform: Platform,
        *,
        ttl: float = 600.0,
        retry_after: float = 30.0,
        timeout: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._platform = platform
        self._ttl, self._retry_after, self._timeout = ttl, retry_after, timeout
        self._clock = clock
        self._names: dict[str, str] = {}
        self._next_refresh = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> dict[str, str]:
        """Names by profile id; the last good answer (or none) when the platform fails."""
        if self._clock() < self._next_refresh:
            return self._names
        async with self._lock:
            if self._clock() >= self._next_refresh:
                try:
                    names = await asyncio.wait_for(self._platform.profile_names(), self._timeout)
                except (PlatformError, httpx.HTTPError, TimeoutError) as exc:
                    log.warning("profile names unavailable; showing ids", extra={"error": str(exc)})
                    self._next_refresh = self._clock() + self._retry_after
                else:
                    self._names = names
                    self._next_refresh = self._clock() + self._ttl
        return self._names
