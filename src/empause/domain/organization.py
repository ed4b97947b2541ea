"""An organization we protect, as the engine and prescreening see it: which platform, which
team may publish while paused, and its pause defaults. Pure data; where it is stored and
how its platform is reached (credentials) belong to the store and the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Literal

from empause.domain.model import Strategy

DEFAULT_HORIZON = timedelta(days=7)
DEFAULT_SHIFT = timedelta(days=7)


class PlatformName(StrEnum):
    HOOTSUITE = "hootsuite"
    SOCIALHUB = "socialhub"


@dataclass(frozen=True, slots=True)
class OrganizationConfig:
    organization_id: str
    platform: PlatformName
    emergency_team_id: str
    name: str = ""
    horizon: timedelta = DEFAULT_HORIZON
    shift: timedelta = DEFAULT_SHIFT
    strategy: Strategy = Strategy.SHIFT
    timezone: str = "UTC"
    concurrency: int = 8
    rate_limit: float = 20.0
    held_action: Literal["hold", "reject"] = "hold"
    prescreen_when_normal: Literal["approve", "ignore"] = "approve"
    fast_sweep_window: timedelta = timedelta(minutes=10)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.organization_id})" if self.name else self.organization_id
