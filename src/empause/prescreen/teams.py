"""Authors' team memberships, read from the platform and cached for a few seconds.

A burst of webhooks from one author should cost one lookup, but membership can change
mid-emergency (invariant 6), so entries expire quickly and concurrent misses share a call.
"""

from __future__ import annotations

import asyncio
import time

from empause.platforms.port import Platform


class TeamCache:
    def __init__(self, platform: Platform, ttl: float = 10.0):
        self.platform = platform
        self.ttl = ttl
        self._entries: dict[str, tuple[float, set[str]]] = {}
        self._inflight: dict[str, asyncio.Future[set[str]]] = {}
        self.lookups = 0

    async def teams(self, member_id: str) -> set[str]:
        entry = self._entries.get(member_id)
        if entry and entry[0] > time.monotonic():
            return entry[1]
        inflight = self._inflight.get(member_id)
        if inflight is not None:
            return set(await asyncio.shield(inflight))
        future: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
        self._inflight[member_id] = future
        try:
            self.lookups += 1
            teams = await self.platform.member_team_ids(member_id)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            self._inflight.pop(member_id, None)
        self._entries[member_id] = (time.monotonic() + self.ttl, teams)
        future.set_result(teams)
        return set(teams)

    def forget(self, member_id: str | None = None) -> None:
        if member_id is None:
            self._entries.clear()
        else:
            self._entries.pop(member_id, None)
