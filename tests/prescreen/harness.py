"""A lean webhook receiver on a loopback port, for the prescreen tests: the real webhook
router, a real database, the real Engine and InboxWorker and the Hootsuite adapter, served by
uvicorn in a background thread (its own event loop, like a separate process).

Not the full web app (`empause.web.app.create_app`), because tests need to pass the worker
options that app does not expose, such as a short poll interval.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from empause.config import Settings, default_organization
from empause.engine.service import Engine
from empause.platforms.hootsuite.adapter import HootsuitePlatform
from empause.prescreen import inbox
from empause.prescreen.worker import InboxWorker
from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, EM_TEAM_ID, ORG_ID
from empause.serving import ThreadedServer
from empause.store import organizations
from empause.store.db import Database
from empause.store.models import Organization
from empause.web.webhooks import router

SECRET = "prescreen-test-secret-7f3c9a"


def make_settings(database_url: str, sandbox_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "database_url": database_url,
        "hootsuite_base_url": sandbox_url,
        "hootsuite_client_id": CLIENT_ID,
        "hootsuite_client_secret": CLIENT_SECRET,
        "organization_id": ORG_ID,
        "emergency_team_id": EM_TEAM_ID,
        "webhook_secret": SECRET,
    }
    values.update(overrides)
    return Settings(**values)


def build_app(settings: Settings, **worker_options: Any) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        async with db.sessions() as session:  # the protected organization, as serve registers it
            await organizations.ensure_default(session, settings)
            await session.commit()
        platform = HootsuitePlatform.from_settings(settings)
        engine = Engine(db, platform, default_organization(settings))
        worker = InboxWorker(db, platform, engine, default_organization(settings), **worker_options)
        app.state.db, app.state.platform, app.state.engine = db, platform, engine
        app.state.settings = settings
        worker.start()
        try:
            yield
        finally:
            await worker.stop()
            await platform.aclose()
            await db.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    return app


class ReceiverServer:
    """The receiver app on 127.0.0.1:<free port> in a thread; a context manager."""

    def __init__(self, settings: Settings, **worker_options: Any):
        self.settings = settings
        self.app = build_app(settings, **worker_options)
        self._http = ThreadedServer(
            self.app, name="prescreen-receiver", log_level="warning", timeout_graceful_shutdown=2
        )

    @property
    def base_url(self) -> str:
        return self._http.base_url

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks/hootsuite/{self.settings.webhook_secret}"

    @property
    def worker(self) -> InboxWorker:
        return self.app.state.inbox_worker

    def start(self) -> ReceiverServer:
        self._http.start(timeout=15)
        return self

    def stop(self) -> None:
        self._http.stop(timeout=10)

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def set_paused(db: Database, paused: bool, horizon_s: int | None = None) -> None:
    """Pause state set directly on the Organization row (what the engine's pause writes)."""
    async with db.sessions() as session:
        org = await session.get(Organization, ORG_ID)
        if org is None:
            org = Organization(id=ORG_ID, emergency_team_id=EM_TEAM_ID, name="Sandbox County")
            session.add(org)
        org.paused = paused
        org.pause_reason = "test emergency" if paused else None
        org.paused_by = "tests" if paused else None
        org.paused_since = datetime.now(UTC) if paused else None
        org.pause_horizon_s = horizon_s
        await session.commit()


async def eventually(
    check: Callable[[], Awaitable[Any]], limit: float = 30.0, interval: float = 0.05
) -> Any:
    """Poll until `check` returns something truthy; the deadline only guards against hangs."""
    deadline = time.monotonic() + limit
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {limit}s (last: {value!r})")
        await asyncio.sleep(interval)


async def inbox_settled(db: Database) -> dict[str, int] | None:
    """Inbox counts once nothing is pending (None while some still are)."""
    counts = await inbox.counts(db)
    return None if counts.get(inbox.PENDING) else counts or {"empty": 0}


async def organization(db: Database) -> Organization | None:
    async with db.sessions() as session:
        return await session.scalar(select(Organization).where(Organization.id == ORG_ID))
