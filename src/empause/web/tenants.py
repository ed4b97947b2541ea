"""This process's objects for each protected organization: its engine and background
runner (operations, sweeps while paused), its webhook inbox worker, and the web's shared
reads (membership, profile names, status). Built from the composition root on first use;
organizations added while the server runs are picked up by `refresh`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from empause.bootstrap import Services, UnknownOrganization
from empause.domain.organization import OrganizationConfig
from empause.engine.service import Engine
from empause.platforms.membership import MembershipChecker
from empause.prescreen.worker import InboxWorker
from empause.web.profiles import ProfileNames
from empause.web.runner import OperationRunner
from empause.web.status import SharedStatus

log = logging.getLogger(__name__)
REFRESH_EVERY = 10.0  # seconds between looks for organizations added from the CLI


@dataclass
class Tenant:
    org: OrganizationConfig
    engine: Engine
    runner: OperationRunner
    inbox: InboxWorker | None
    membership: MembershipChecker
    profile_names: ProfileNames
    status: SharedStatus

    @property
    def organization_id(self) -> str:
        return self.org.organization_id


class Tenants:
    def __init__(self, services: Services, *, membership_ttl: float, background: bool = True):
        self.services = services
        self.membership_ttl = membership_ttl
        self.background = background  # run operations, sweeps and the inbox in this process
        self._tenants: dict[str, Tenant] = {}
        self._lock = asyncio.Lock()
        self._refresher: asyncio.Task[None] | None = None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._tenants.values()))

    async def start(self) -> None:
        await self.refresh()
        self._refresher = asyncio.create_task(self._refresh_loop(), name="tenants-refresh")

    async def refresh(self) -> None:
        for org in await self.services.organizations():
            known = self._tenants.get(org.organization_id)
            if known is None or known.org != org:
                await self._build(org)

    async def get(self, organization_id: str) -> Tenant:
        tenant = self._tenants.get(organization_id)
        if tenant is not None:
            return tenant
        org = await self.services.organization(organization_id)  # raises UnknownOrganization
        return await self._build(org)

    async def _build(self, org: OrganizationConfig) -> Tenant:
        async with self._lock:
            old = self._tenants.get(org.organization_id)
            if old is not None and old.org == org:
                return old
            if old is not None:
                await self._stop(old)
            s = self.services
            engine = s.engine(org)
            platform = s.platform(org)
            sweep = s.settings.sweep_interval.total_seconds()
            fast = s.settings.fast_sweep_interval.total_seconds()
            runner = OperationRunner(engine, s.db, org.organization_id, sweep, fast,
                                     org.fast_sweep_window)  # fmt: skip
            inbox = InboxWorker(s.db, platform, engine, org) if platform.capabilities.webhooks else None
            tenant = Tenant(
                org=org, engine=engine, runner=runner, inbox=inbox,
                membership=MembershipChecker(platform, org.emergency_team_id, ttl=self.membership_ttl),
                profile_names=ProfileNames(platform),
                status=SharedStatus(s.db, org.organization_id),
            )  # fmt: skip
            if self.background:
                runner.start()  # recover() first: unfinished operations continue after a crash
                if inbox is not None:
                    inbox.start()
            self._tenants[org.organization_id] = tenant
            log.info("protecting", extra={"organization_id": org.organization_id})
            return tenant

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except (UnknownOrganization, Exception):  # the database may be briefly away
                log.exception("could not refresh the organizations")

    def wake_inboxes(self) -> None:
        for tenant in self._tenants.values():
            if tenant.inbox is not None:
                tenant.inbox.wake()

    @staticmethod
    async def _stop(tenant: Tenant) -> None:
        if tenant.inbox is not None:
            await tenant.inbox.stop()
        await tenant.runner.stop()

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
        for tenant in list(self._tenants.values()):
            await self._stop(tenant)
        self._tenants.clear()
