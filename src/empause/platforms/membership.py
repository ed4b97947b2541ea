"""Who is in the emergency team, asked of the platform at the moment of need (invariant 6).

Shared by the web app (who may act), prescreening and enforcement (whose posts go out).

State-changing actions always ask the platform afresh. Only when the platform cannot answer
(a transient failure) does a positive answer younger than `ttl` (at most 60 s) stand in, so
an outage upstream does not lock the emergency team out of its own button for long, and a
member removed from the team loses the controls at their very next action.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from empause.domain.model import may_publish_while_paused
from empause.platforms.port import Permanent, Platform, PlatformError, Transient

log = logging.getLogger(__name__)
MAX_TTL = 60.0


class MembershipUnavailable(Transient):
    """The platform could not say, and no recent answer can stand in."""


@dataclass(frozen=True, slots=True)
class Membership:
    member_id: str
    team_ids: frozenset[str]
    emergency: bool


class MembershipChecker:
    def __init__(self, platform: Platform, emergency_team_id: str, ttl: float = MAX_TTL):
        self._platform = platform
        self._team = str(emergency_team_id)
        self.ttl = min(ttl, MAX_TTL)
        self._cache: dict[str, tuple[float, Membership]] = {}
        self._asking: dict[str, asyncio.Future[Membership]] = {}

    def _cached(self, member_id: str, max_age: float) -> Membership | None:
        hit = self._cache.get(member_id)
        if hit and time.monotonic() - hit[0] <= min(max_age, self.ttl):
            return hit[1]
        return None

    async def check(self, member_id: str, max_age: float = 0.0) -> Membership:
        """The member's teams now; `max_age` > 0 allows a cached answer (reading pages and
        status), and concurrent such checks of one member share one upstream call."""
        member_id = str(member_id)
        if max_age <= 0:
            return await self._ask(member_id)
        if hit := self._cached(member_id, max_age):
            return hit
        asking = self._asking.get(member_id)
        if asking is not None and asking.get_loop() is asyncio.get_running_loop():
            return await asyncio.shield(asking)
        future: asyncio.Future[Membership] = asyncio.get_running_loop().create_future()
        self._asking[member_id] = future
        try:
            answer = await self._ask(member_id)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody is warned it was lost
            raise
        else:
            future.set_result(answer)
            return answer
        finally:
            if self._asking.get(member_id) is future:
                del self._asking[member_id]

    async def _ask(self, member_id: str) -> Membership:
        try:
            teams = await self._platform.member_team_ids(member_id)
        except Permanent as exc:
            # Not found / forbidden: the member left the organization. Fail closed.
            log.info("membership refused", extra={"member_id": member_id, "error": str(exc)})
            teams = set()
        except PlatformError as exc:
            hit = self._cached(member_id, self.ttl)
            if hit is not None:
                return hit
            raise MembershipUnavailable(str(exc)) from exc
        membership = Membership(
            member_id, frozenset(teams), may_publish_while_paused(teams, self._team)
        )
        self._cache[member_id] = (time.monotonic(), membership)
        return membership
