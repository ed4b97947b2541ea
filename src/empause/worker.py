"""`empause worker`: a background worker. It runs jobs (pause and resume operations, full
sweeps; on PostgreSQL through procrastinate, shared by every worker on every machine) and
watches the organizations whose lease it holds (webhook inbox, fast sweeps). Any number can
run; SIGTERM or Ctrl-C stops it after its running jobs."""

from __future__ import annotations

import asyncio
import logging
import signal

from empause.bootstrap import Services, job_settings
from empause.config import Settings
from empause.jobs import job_queue
from empause.jobs.handlers import EngineHandlers
from empause.platforms.membership import MAX_TTL
from empause.web.tenants import Tenants

log = logging.getLogger(__name__)


async def work(settings: Settings, concurrency: int) -> None:
    services = Services(settings)
    await services.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with job_queue(
            settings.database_url, EngineHandlers(services), worker=True,
            concurrency=concurrency, settings=job_settings(settings),
        ) as queue:  # fmt: skip
            tenants = Tenants(services, queue, membership_ttl=MAX_TTL, background=True)
            await tenants.start()
            log.info("worker ready", extra={"organizations": [t.organization_id for t in tenants]})
            try:
                await stop.wait()
            finally:
                await tenants.stop()
    finally:
        await services.aclose()
        log.info("worker stopped")
