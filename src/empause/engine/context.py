"""What every engine step needs: the database, the platform, the organization, the clocks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from empause.domain.organization import OrganizationConfig
from empause.domain.timeutil import utcnow
from empause.platforms.membership import MembershipChecker
from empause.platforms.port import Platform
from empause.store.db import Database


@dataclass
class Context:
    db: Database
    platform: Platform
    org: OrganizationConfig
    # The platform's time, which decides what is due (a sandbox's clock can be controlled).
    # Operation timings (started_at, safe_at, finished_at) always use the wall clock.
    clock: Callable[[], datetime] = utcnow
    membership: MembershipChecker = field(init=False)

    def __post_init__(self) -> None:
        self.membership = MembershipChecker(self.platform, self.org.emergency_team_id)

    @property
    def organization_id(self) -> str:
        return self.org.organization_id

    @property
    def concurrency(self) -> int:
        return self.org.concurrency

    def api_calls(self) -> int:
        """Calls the platform has sent so far, if it counts them (the Hootsuite adapter does)."""
        value: Any = getattr(self.platform, "api_calls", 0)
        return int(value or 0)
