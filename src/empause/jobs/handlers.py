"""The bodies of the jobs (see `empause.jobs.ports.Handlers`): the engine's operations and
sweeps for one organization, through the composition root. Each is safe to run again."""

from __future__ import annotations

import logging
import time

from sqlalchemy import and_, or_, select

from empause.bootstrap import Services, UnknownOrganization
from empause.domain.timeutil import utcnow
from empause.engine.service import Engine
from empause.store.models import Organization
from empause.web import metrics

log = logging.getLogger(__name__)


class EngineHandlers:
    def __init__(self, services: Services):
        self.services = services

    async def _engine(self, organization_id: str) -> Engine | None:
        try:
            return self.services.engine(await self.services.organization(organization_id))
        except UnknownOrganization:  # removed since: nothing to do
            log.warning("job for an organization no longer protected",
                        extra={"organization_id": organization_id})  # fmt: skip
            return None

    async def run_operation(self, organization_id: str, operation_id: int) -> None:
        engine = await self._engine(organization_id)
        if engine is None:
            return
        started, outcome = time.monotonic(), "error"
        try:
            finished = await engine.run()
            outcome = "ok"
            log.info("operations finished", extra={"organization_id": organization_id,
                                                   "operations": finished})  # fmt: skip
        finally:
            metrics.OPERATION_SECONDS.labels("operation", outcome).observe(
                time.monotonic() - started
            )

    async def sweep(self, organization_id: str) -> None:
        engine = await self._engine(organization_id)
        if engine is not None:
            await engine.sweep()

    async def paused_organizations(self) -> list[str]:
        async with self.services.db.sessions() as session:
            found = await session.scalars(select(Organization.id).where(Organization.paused))
            return list(found)

    async def fire_timers(self, organization_id: str) -> None:
        engine = await self._engine(organization_id)
        if engine is not None:
            fired = await engine.fire_timers()
            if fired:
                log.info("timer fired", extra={"organization_id": organization_id,
                                               "fired": sorted(fired)})  # fmt: skip

    async def due_timers(self) -> list[str]:
        now = utcnow()
        async with self.services.db.sessions() as session:
            found = await session.scalars(
                select(Organization.id).where(
                    or_(
                        and_(Organization.paused, Organization.pause_ends_at <= now),
                        and_(~Organization.paused, Organization.pause_starts_at <= now),
                    )
                )
            )
            return list(found)
