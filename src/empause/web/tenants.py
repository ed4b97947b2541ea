"""This process's objects for each protected organization: its engine, the web's shared
reads (membership, profile names, status) and, in a process that does background work,
the organization's *watch*: its webhook inbox and the fast sweep of the next minutes.

Operations and full sweeps are jobs (empause.jobs), run by any worker. The watch runs in
one process per organization at a time: the one holding its lease (renewed every few
seconds; taken over when its holder stops or dies). Organizations added while the server
runs are picked up by `refresh`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from empause.bootstrap import Services, UnknownOrganization
from empause.domain.organization import OrganizationConfig
from empause.domain.timeutil import utcnow
from empause.engine import journal
from empause.engine.service import Engine
from empause.jobs.ports import JobQueue
from empause.platforms.membership import MembershipChecker
from empause.prescreen.poller import PendingPoller
from empause.prescreen.worker import InboxWorker
from empause.store import organizations
from empause.web.profiles import ProfileNames
from empause.web.status import SharedStatus

log = logging.getLogger(__name__)
REFRESH_EVERY = 10.0  # seconds between looks for organizations added from the CLI
LEASE_RENEW_EVERY = 2.0  # seconds
LEASE_TTL = timedelta(seconds=6)  # a watcher silent this long is replaced
HAND_OVER_AFTER = timedelta(seconds=5)  # an operation nobody runs after this goes to a worker
FAST_SWEEP_LOCK_WAIT = 0.25  # seconds: a busy organization is swept at the next tick
FAST_SWEEPS_AT_ONCE = 4  # organizations swept concurrently by one process


@dataclass
class Watch:
    """The organization's inbox worker (or, without webhooks, its pending poller) in this
    process (its fast sweeps: `Tenants`)."""

    inbox: InboxWorker | None
    poller: PendingPoller | None = None

    async def stop(self) -> None:
        if self.inbox is not None:
            await self.inbox.stop()
        if self.poller is not None:
            await self.poller.stop()


@dataclass
class Tenant:
    org: OrganizationConfig
    engine: Engine
    queue: JobQueue
    membership: MembershipChecker
    profile_names: ProfileNames
    status: SharedStatus
    watch: Watch | None = field(default=None)

    @property
    def organization_id(self) -> str:
        return self.org.organization_id

    async def pause(self, **request: object) -> int | None:
        """Record the pause (the banner flips at once) and hand it to a worker."""
        begun = await self.engine.begin_pause(**request)  # type: ignore[arg-type]
        if begun.operation_id is not None:
            await self.queue.defer_operation(self.organization_id, begun.operation_id)
        if begun.ends_at is not None:
            await self.queue.defer_timer(self.organization_id, begun.ends_at)
        return begun.operation_id

    async def resume(self, restore: str, by: str) -> int | None:
        begun = await self.engine.begin_resume(restore, by)
        if begun.operation_id is not None and not begun.already:
            await self.queue.defer_operation(self.organization_id, begun.operation_id)
        return begun.operation_id


class Tenants:
    def __init__(
        self,
        services: Services,
        queue: JobQueue,
        *,
        membership_ttl: float,
        background: bool = True,
    ):
        self.services = services
        self.queue = queue
        self.membership_ttl = membership_ttl
        self.background = background  # watch organizations (inbox, fast sweeps) from here
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._tenants: dict[str, Tenant] = {}
        self._lock = asyncio.Lock()
        self._loops: list[asyncio.Task[None]] = []

    def __iter__(self) -> Iterator[Tenant]:
        return iter(list(self._tenants.values()))

    async def start(self) -> None:
        await self.refresh()
        self._loops.append(asyncio.create_task(self._every(REFRESH_EVERY, self.refresh)))
        if self.background:
            await self.watch()
            self._loops.append(asyncio.create_task(self._every(LEASE_RENEW_EVERY, self.watch)))
            interval = self.services.settings.fast_sweep_interval.total_seconds()
            if interval > 0:
                self._loops.append(asyncio.create_task(self._every(interval, self.fast_sweep)))

    async def refresh(self) -> None:
        known = await self.services.organizations()
        for org in known:
            tenant = self._tenants.get(org.organization_id)
            if tenant is None or tenant.org != org:
                await self._build(org)
        gone = set(self._tenants) - {org.organization_id for org in known}
        for organization_id in gone:
            await self._unwatch(self._tenants.pop(organization_id))

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
                await self._unwatch(old)
            platform = self.services.platform(org)
            tenant = Tenant(
                org=org, engine=self.services.engine(org), queue=self.queue,
                membership=MembershipChecker(platform, org.emergency_team_id,
                                             ttl=self.membership_ttl),
                profile_names=ProfileNames(platform),
                status=SharedStatus(self.services.db, org.organization_id),
            )  # fmt: skip
            self._tenants[org.organization_id] = tenant
            return tenant

    # -- the watch --------------------------------------------------------------------------

    async def watch(self) -> None:
        """Take or renew the lease of every organization we can; watch those we hold."""
        for tenant in self:
            async with self.services.db.sessions() as session:
                held = await organizations.claim_lease(
                    session, tenant.organization_id, self.owner, utcnow(), LEASE_TTL
                )
                await session.commit()
            if held and tenant.watch is None:
                await self._start_watch(tenant)
            elif not held and tenant.watch is not None:
                await self._unwatch(tenant)
            if held:  # operations begun elsewhere (`pause --no-wait`) or left by a crash
                await self._hand_over_unfinished(tenant)

    async def _start_watch(self, tenant: Tenant) -> None:
        log.info("watching", extra={"organization_id": tenant.organization_id})
        platform = self.services.platform(tenant.org)
        inbox, poller = None, None
        if platform.capabilities.webhooks:
            inbox = InboxWorker(self.services.db, platform, tenant.engine, tenant.org)
            inbox.start()
        else:  # SocialHub: poll what awaits approval
            interval = self.services.settings.pending_poll_interval.total_seconds()
            poller = PendingPoller(self.services.db, platform, tenant.engine, tenant.org,
                                   interval=interval)  # fmt: skip
            poller.start()
        tenant.watch = Watch(inbox, poller)

    async def _hand_over_unfinished(self, tenant: Tenant) -> None:
        """Unfinished operations go to a worker (deferring one already queued is harmless);
        a young one is left to the process that began it (a waiting `empause pause`)."""
        async with self.services.db.sessions() as session:
            unfinished = await journal.unfinished_operations(session, tenant.organization_id)
        for op in unfinished:
            if op.started_at < utcnow() - HAND_OVER_AFTER:
                await self.queue.defer_operation(tenant.organization_id, op.id)

    async def fast_sweep(self) -> None:
        """While paused, the next minutes of every watched organization are swept every few
        tenths of a second, whatever its inbox is busy with (a flood of forged events cannot
        delay this); one query finds the organizations to sweep (paused, no operation
        running: its job sweeps after it), a few are swept at a time."""
        watched = {t.organization_id: t for t in self if t.watch is not None}
        if not watched:
            return
        async with self.services.db.sessions() as session:
            due = await organizations.paused_and_idle(session, set(watched))
        limit = asyncio.Semaphore(FAST_SWEEPS_AT_ONCE)

        async def sweep(tenant: Tenant) -> None:
            async with limit:
                try:
                    result = await tenant.engine.sweep(
                        window=tenant.org.fast_sweep_window, lock_wait=FAST_SWEEP_LOCK_WAIT,
                        operations=False,
                    )  # fmt: skip
                except Exception:
                    log.exception("fast sweep failed",
                                  extra={"organization_id": tenant.organization_id})  # fmt: skip
                    return
                if result.get("moved") or result.get("pushed_again"):
                    log.info("fast sweep moved messages", extra={"result": result})

        await asyncio.gather(*(sweep(watched[i]) for i in due))

    @staticmethod
    async def _unwatch(tenant: Tenant) -> None:
        watch, tenant.watch = tenant.watch, None
        if watch is not None:
            await watch.stop()

    def wake_inboxes(self) -> None:
        for tenant in self:
            if tenant.watch is not None and tenant.watch.inbox is not None:
                tenant.watch.inbox.wake()

    # -- lifecycle --------------------------------------------------------------------------

    @staticmethod
    async def _every(seconds: float, call: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await call()
            except asyncio.CancelledError:
                raise
            except (UnknownOrganization, Exception):  # the database may be briefly away
                log.exception("background refresh failed")

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        for tenant in self:
            await self._unwatch(tenant)
        if self.background:
            with contextlib.suppress(Exception):  # the next holder waits for the lease to end
                async with self.services.db.sessions() as session:
                    await organizations.release_leases(session, self.owner)
                    await session.commit()
        self._tenants.clear()
