"""The app factory: wiring, lifespan (migrate, recover, sweep, prescreen) and middleware."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from empause.config import Settings, get_settings
from empause.engine.service import Engine
from empause.platforms.hootsuite.adapter import HootsuitePlatform
from empause.platforms.membership import MAX_TTL, MembershipChecker
from empause.prescreen.worker import InboxWorker
from empause.store.db import Database
from empause.store.migrate import upgrade
from empause.web import crypto, queries, sessions, status, webhooks
from empause.web.bodylimit import BodyLimit
from empause.web.errors import (
    WebError,
    too_deep_handler,
    validation_handler,
    web_error_handler,
)
from empause.web.middleware import RequestMetrics, SecurityHeaders
from empause.web.profiles import ProfileNames
from empause.web.routes import api, audit, auth, dashboard, events, keys, ops
from empause.web.runner import OperationRunner
from empause.web.stream import routes as stream

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    async with db.sessions() as session:
        await queries.ensure_organization(
            session, settings.organization_id, settings.emergency_team_id
        )
        await session.commit()
    http = httpx.AsyncClient(timeout=10.0)
    platform = HootsuitePlatform.from_settings(settings)
    engine = Engine(db, platform, settings)
    runner = OperationRunner(
        engine, db, settings.organization_id, settings.sweep_interval.total_seconds(),
        settings.fast_sweep_interval.total_seconds(), settings.fast_sweep_window,
    )  # fmt: skip
    inbox = InboxWorker(db, platform, engine, settings)
    state = app.state
    state.db, state.http, state.platform, state.engine = db, http, platform, engine
    state.runner, state.inbox_worker = runner, inbox
    state.membership = MembershipChecker(
        platform, settings.emergency_team_id, ttl=app.state.membership_ttl
    )
    state.profile_names = ProfileNames(platform)
    state.status = status.SharedStatus(db, settings.organization_id)
    state.stopping = asyncio.Event()
    runner.start()  # recover() first: unfinished operations continue after a crash
    inbox.start()
    log.info("started", extra={"organization_id": settings.organization_id})
    try:
        yield
    finally:
        state.stopping.set()
        await inbox.stop()
        await runner.stop()
        await platform.aclose()
        await http.aclose()
        await db.dispose()
        log.info("stopped")


def create_app(settings: Settings | None = None, *, membership_ttl: float = MAX_TTL) -> FastAPI:
    """The web app. Nothing is connected until the lifespan starts."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Emergency Pause",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.cipher = crypto.TokenCipher(settings.secret_key)
    app.state.login_state = sessions.LoginState(settings.secret_key)
    app.state.event_streams = {}  # session id -> open /events/status streams
    app.state.membership_ttl = membership_ttl

    app.add_exception_handler(WebError, web_error_handler)
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(RecursionError, too_deep_handler)

    for module in (auth, dashboard, audit, keys, events, api, ops, stream):
        app.include_router(module.router)
    app.include_router(webhooks.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_middleware(BodyLimit)
    # Added last = outermost: headers and metrics see every response.
    app.add_middleware(SecurityHeaders, hsts=sessions.secure_cookies(settings.public_url))
    app.add_middleware(RequestMetrics)
    return app
