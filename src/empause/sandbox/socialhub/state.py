"""One SocialHub sandbox instance's state: world, clock, faults, rate limit, counters.

The clock, the fault injection and the per-account rate limiter are the Hootsuite
sandbox's (empause.sandbox.clock / faults / limits): only the API differs.
"""

from __future__ import annotations

from collections import Counter

from empause.sandbox.clock import SandboxClock
from empause.sandbox.faults import Faults
from empause.sandbox.limits import RateLimiter
from empause.sandbox.socialhub.errors import ShError
from empause.sandbox.socialhub.seed import SEEDS, build_demo
from empause.sandbox.socialhub.world import User, World, to_ms


class SocialHubSandbox:
    """Everything one running SocialHub sandbox knows. Only its event loop touches it."""

    def __init__(
        self,
        seed: str | None = "demo",
        posts: int = 300,
        rng: int = 7,
        rate_limit: float = 20,
        latency_ms: float = 0,
        control: bool = True,
    ) -> None:
        self.control = control
        self.default_rate_limit = rate_limit
        self.faults = Faults(latency_ms=latency_ms, seed=rng)
        self.limiter = RateLimiter(rate_limit)
        self.reset(seed or "demo", posts, rng)

    def reset(self, seed: str = "demo", posts: int = 300, rng: int = 7) -> None:
        """Recreate the world; clear faults, clock, publish log and counts."""
        if seed not in SEEDS:
            raise ShError(400, f"Unknown seed {seed!r}; known: {', '.join(SEEDS)}")
        self.clock = SandboxClock()
        self.world = World(self.clock)
        build_demo(self.world, posts=posts, rng=rng)
        self.faults.reset(rng)
        self.limiter.per_second = self.default_rate_limit
        self.limiter.reset()
        self.calls: Counter[str] = Counter()

    def now_ms(self) -> int:
        return to_ms(self.clock.now())

    def user_for(self, access_token: str | None) -> User:
        """The user behind `?accesstoken=`, or 401."""
        if not access_token:
            raise ShError(401, "An access token is required (?accesstoken=...)")
        user_id = self.world.tokens.get(access_token)
        if user_id is None:
            raise ShError(401)
        return self.world.users[user_id]
