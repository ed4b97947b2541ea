"""One sandbox instance's state: world, clock, tokens, faults, limits, webhooks, counters."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from empause.sandbox.clock import SandboxClock
from empause.sandbox.errors import ApiError
from empause.sandbox.faults import Faults
from empause.sandbox.limits import RateLimiter
from empause.sandbox.seed import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
    SEEDS,
    build_demo,
)
from empause.sandbox.webhooks import WebhookDispatcher
from empause.sandbox.world import Message, Token, World, format_time_ms, to_ms

if TYPE_CHECKING:
    from empause.sandbox.dashboard import AppStream
    from empause.sandbox.persist import StateFile


@dataclass(slots=True)
class Grant:
    """What an authorization code or refresh token stands for."""

    client_id: str
    member_id: str | None
    organization_id: str | None
    scope: str
    family: str
    redirect_uri: str | None = None
    code_challenge: str | None = None
    expires_ms: int = 0
    used: bool = False


@dataclass
class TokenStore:
    access: dict[str, Token] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    families_revoked: set[str] = field(default_factory=set)

    def issue(self, grant: Grant, ttl_ms: int, now_ms: int, with_refresh: bool) -> dict:
        token = Token(
            access_token=secrets.token_urlsafe(24),
            client_id=grant.client_id,
            expires_ms=now_ms + ttl_ms,
            member_id=grant.member_id,
            organization_id=grant.organization_id,
            family=grant.family,
        )
        self.access[token.access_token] = token
        body = {
            "access_token": token.access_token,
            "token_type": "Bearer",
            "expires_in": ttl_ms // 1000,
            "scope": grant.scope,
        }
        if with_refresh:
            refresh = secrets.token_urlsafe(24)
            self.refresh[refresh] = Grant(
                grant.client_id, grant.member_id, grant.organization_id, grant.scope, grant.family
            )
            body["refresh_token"] = refresh
        return body

    def revoke_family(self, family: str) -> None:
        self.families_revoked.add(family)
        for token in self.access.values():
            if token.family == family:
                token.revoked = True
        for key in [k for k, g in self.refresh.items() if g.family == family]:
            del self.refresh[key]


class Sandbox:
    """Everything one running sandbox knows. Only its event loop touches it."""

    clients = {CLIENT_ID: CLIENT_SECRET}

    def __init__(
        self,
        seed: str | None = "demo",
        messages: int = 300,
        rng: int = 7,
        rate_limit: float = 20,
        latency_ms: float = 0,
        token_ttl: int = 3599,
        control: bool = True,
        organizations: int = 1,
    ) -> None:
        self.control = control
        self.default_rate_limit = rate_limit
        self.default_token_ttl = token_ttl
        self.faults = Faults(latency_ms=latency_ms, seed=rng)
        self.limiter = RateLimiter(rate_limit)
        self.webhooks = WebhookDispatcher()
        # The app's registration, not the world's: a reset keeps it.
        self.redirect_uris: dict[str, set[str]] = {CLIENT_ID: set(DEMO_REDIRECT_URIS)}
        self.app_streams: dict[str, AppStream] = {}  # installed app streams, by name
        self.state_file: StateFile | None = None  # set: every change is saved (persist.py)
        self.reset(seed or "demo", messages, rng, organizations)

    def reset(
        self, seed: str = "demo", messages: int = 300, rng: int = 7, organizations: int = 1
    ) -> None:
        """Recreate the world; clear tokens, faults, webhooks, clock, publish log, counts."""
        if seed not in SEEDS:
            raise ApiError(400, 4000, f"Unknown seed {seed!r}; known: {', '.join(SEEDS)}")
        self.clock = SandboxClock()
        self.world = World(self.clock)
        self.world.on_event = self._emit
        build_demo(self.world, messages=messages, rng=rng, organizations=organizations)
        self.organizations = organizations
        self.tokens = TokenStore()
        self.faults.reset(rng)
        self.limiter.per_second = self.default_rate_limit
        self.limiter.reset()
        self.token_ttl = self.default_token_ttl
        self.webhooks.reset()
        self.calls: Counter[str] = Counter()
        self.dashboard_sessions: dict[str, str] = {}  # dashboard cookie -> member id

    def changed(self) -> None:
        """Something may have changed: save it if this sandbox keeps its state on disk."""
        if self.state_file is not None:
            self.state_file.save(self)

    def _emit(self, message: Message, state: str) -> None:
        self.webhooks.message_event(
            state,
            message.organization_id,
            message.id,
            format_time_ms(self.clock.now()),
            message.extra.get("webhookUrls"),
        )

    def now_ms(self) -> int:
        return to_ms(self.clock.now())

    def bearer(self, authorization: str | None) -> Token:
        """The live access token in an `Authorization: Bearer` header, or 401."""
        if not authorization:
            raise ApiError(401, 1000)
        scheme, _, value = authorization.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value or " " in value:
            raise ApiError(401, 1000)
        token = self.tokens.access.get(value)
        if token is None or token.revoked or token.expires_ms <= self.now_ms():
            raise ApiError(401, 1001)
        return token
