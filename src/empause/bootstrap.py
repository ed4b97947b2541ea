"""The composition root: builds the object graph once and hands it to every entry point
(web app, CLI, workers, demo, tests, benchmarks). Nothing else constructs adapters.

`Services` owns the database, the cipher for credentials at rest, and one platform adapter
and one engine per organization (built on first use, closed with `aclose`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from empause.config import Settings
from empause.domain.organization import OrganizationConfig, PlatformName
from empause.domain.timeutil import utcnow
from empause.engine.service import Engine
from empause.jobs.settings import JobSettings
from empause.platforms.budget import RateBudgets
from empause.platforms.port import Platform
from empause.store import organizations
from empause.store.db import Database
from empause.store.migrate import upgrade
from empause.web.crypto import TokenCipher


def job_settings(settings: Settings) -> JobSettings:
    """Background work's timings from the installation's settings."""
    asked = int(settings.sweep_interval.total_seconds())
    # A periodic job fires on a clock that divides the minute or the hour.
    fits = [s for s in (*range(1, 61), *range(120, 3601, 60)) if 3600 % s == 0 and s <= asked]
    return JobSettings(sweep_interval=max(fits, default=1))


class UnknownOrganization(LookupError):
    """No such organization, or several and none chosen; the message lists them."""


class Services:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        lock_timeout: float = 30.0,
    ):
        self.settings = settings
        self.clock = clock
        self.lock_timeout = lock_timeout
        self.db = Database(settings.database_url)
        self.cipher = TokenCipher(settings.secret_key) if settings.secret_key else None
        # One request budget per upstream account, shared by every process on PostgreSQL.
        self.budgets = RateBudgets(settings.database_url)
        self._platforms: dict[str, Platform] = {}
        self._engines: dict[str, Engine] = {}
        # Each organization's base URL and encrypted credentials, as last read from its row.
        self._connections: dict[str, tuple[str | None, str | None]] = {}

    async def start(self, *, migrate: bool = True) -> None:
        """Migrate, and register the environment's organization (EMPAUSE_ORGANIZATION_ID)."""
        if migrate:
            await asyncio.to_thread(upgrade, self.settings.database_url)
        async with self.db.sessions() as session:
            try:
                await organizations.ensure_default(session, self.settings)
                await session.commit()
            except IntegrityError:  # another process registered it at the same moment
                await session.rollback()

    async def aclose(self) -> None:
        platforms, self._platforms = list(self._platforms.values()), {}
        self._engines.clear()
        for platform in platforms:
            await platform.aclose()
        await self.budgets.aclose()
        await self.db.dispose()

    # -- organizations ----------------------------------------------------------------------

    async def organizations(self) -> list[OrganizationConfig]:
        async with self.db.sessions() as session:
            rows = await organizations.rows(session)
        self._connections = {row.id: (row.base_url, row.credentials_enc) for row in rows}
        return [organizations.config_of(row, self.settings) for row in rows]

    async def organization(self, organization_id: str | None = None) -> OrganizationConfig:
        """The one asked for; without an id, the only one (else an error listing them)."""
        known = await self.organizations()
        if organization_id is not None:
            for org in known:
                if org.organization_id == organization_id:
                    return org
            raise UnknownOrganization(
                f"no organization {organization_id} is protected here; "
                + _listing(known)
            )
        if len(known) == 1:
            return known[0]
        if not known:
            raise UnknownOrganization(
                "no organization is protected yet: set EMPAUSE_ORGANIZATION_ID and "
                "EMPAUSE_EMERGENCY_TEAM_ID, or run `empause org add`"
            )
        raise UnknownOrganization("several organizations are protected: choose one with --org; "
                                  + _listing(known))  # fmt: skip

    # -- adapters and engines ---------------------------------------------------------------

    def platform(self, org: OrganizationConfig) -> Platform:
        """The organization's adapter (one per organization and process)."""
        platform = self._platforms.get(org.organization_id)
        if platform is None:
            platform = self._platforms[org.organization_id] = self._connect(org)
        return platform

    def engine(self, org: OrganizationConfig) -> Engine:
        engine = self._engines.get(org.organization_id)
        if engine is None or engine.ctx.org != org:
            engine = self._engines[org.organization_id] = Engine(
                self.db, self.platform(org), org, clock=self.clock,
                lock_timeout=self.lock_timeout,
            )  # fmt: skip
        return engine

    def _connect(self, org: OrganizationConfig) -> Platform:
        base_url, sealed = self._connections.get(org.organization_id, (None, None))
        credentials = self.open_credentials(org.organization_id, sealed)
        if org.platform == PlatformName.HOOTSUITE:
            from empause.platforms.hootsuite.adapter import HootsuitePlatform

            app = {
                "EMPAUSE_HOOTSUITE_BASE_URL": base_url or self.settings.hootsuite_base_url,
                "EMPAUSE_HOOTSUITE_CLIENT_ID": credentials.get("client_id")
                or self.settings.hootsuite_client_id,
                "EMPAUSE_HOOTSUITE_CLIENT_SECRET": credentials.get("client_secret")
                or self.settings.hootsuite_client_secret,
            }
            missing = [name for name, value in app.items() if not value]
            if missing:
                raise UnknownOrganization(f"missing configuration: set {', '.join(missing)}")
            base, client_id, client_secret = app.values()
            limiter = self.budgets.budget_for(
                base, f"organization:{org.organization_id}", org.rate_limit
            )
            return HootsuitePlatform(
                base, client_id, client_secret, org.organization_id,
                rate_limit=org.rate_limit, limiter=limiter,
            )  # fmt: skip
        if org.platform == PlatformName.SOCIALHUB:
            from empause.platforms.socialhub.adapter import SocialHubPlatform

            base = base_url or self.settings.socialhub_base_url
            token = credentials.get("access_token") or self.settings.socialhub_access_token
            if not base or not token:
                raise UnknownOrganization(
                    "missing configuration: set EMPAUSE_SOCIALHUB_BASE_URL and "
                    "EMPAUSE_SOCIALHUB_ACCESS_TOKEN (or `empause org add --platform socialhub`)"
                )
            limiter = self.budgets.budget_for(
                base, f"organization:{org.organization_id}", org.rate_limit
            )
            return SocialHubPlatform(base, token, rate_limit=org.rate_limit, limiter=limiter)
        raise UnknownOrganization(f"platform {org.platform} is not supported")

    def remember_connection(
        self, organization_id: str, base_url: str | None, sealed: str | None
    ) -> None:
        """How to reach an organization not stored yet (`org add` checks before storing)."""
        self._connections[organization_id] = (base_url, sealed)
        self._platforms.pop(organization_id, None)

    def seal_credentials(self, credentials: dict[str, str]) -> str:
        """Credentials as stored: JSON encrypted with EMPAUSE_SECRET_KEY."""
        if self.cipher is None:
            raise UnknownOrganization("storing credentials needs EMPAUSE_SECRET_KEY")
        sealed = self.cipher.encrypt(json.dumps(credentials))
        assert sealed is not None
        return sealed

    def open_credentials(self, organization_id: str, sealed: str | None) -> dict[str, str]:
        if not sealed:
            return {}
        if self.cipher is None:
            raise UnknownOrganization(
                f"organization {organization_id} has stored credentials: set EMPAUSE_SECRET_KEY"
            )
        plain = self.cipher.decrypt(sealed)
        if plain is None:
            raise UnknownOrganization(
                f"organization {organization_id}'s credentials were encrypted with another "
                "EMPAUSE_SECRET_KEY"
            )
        return {str(k): str(v) for k, v in json.loads(plain).items()}


def _listing(known: list[OrganizationConfig]) -> str:
    if not known:
        return "none is protected yet (`empause org add`)"
    return "protected: " + ", ".join(org.label for org in known)
