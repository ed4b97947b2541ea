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
from starlette.exceptions import HTTPException

from empause.bootstrap import Services, job_settings
from empause.config import Settings, get_settings
from empause.jobs import job_queue
from empause.jobs.handlers import EngineHandlers
from empause.notify.mail import Mailer
from empause.platforms.membership import MAX_TTL
from empause.web import crypto, sessions, webhooks
from empause.web.bodylimit import BodyLimit
from empause.web.errors import (
    WebError,
    http_error_handler,
    server_error_handler,
    too_deep_handler,
    validation_handler,
    web_error_handler,
)
from empause.web.middleware import RequestMetrics, SecurityHeaders
from empause.web.routes import api, audit, auth, dashboard, email_signin, events, keys, ops
from empause.web.signin_links import EmailSignin
from empause.web.stream import routes as stream
from empause.web.tenants import Tenants

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    services = Services(settings)
    await services.start()
    background = app.state.background
    async with job_queue(
        settings.database_url, EngineHandlers(services), worker=background,
        settings=job_settings(settings),
    ) as queue:  # fmt: skip
        tenants = Tenants(
            services, queue, membership_ttl=app.state.membership_ttl, background=background
        )
        http = httpx.AsyncClient(timeout=10.0)
        state = app.state
        state.services, state.db, state.http, state.tenants = services, services.db, http, tenants
        state.stopping = asyncio.Event()
        await tenants.start()
        log.info("started", extra={"organizations": [t.organization_id for t in tenants]})
        try:
            yield
        finally:
            state.stopping.set()
            await tenants.stop()
            await http.aclose()
    await services.aclose()
    log.info("stopped")


def create_app(
    settings: Settings | None = None, *, membership_ttl: float = MAX_TTL, background: bool = True
) -> FastAPI:
    """The web app. Nothing is connected until the lifespan starts. `background=False`
    leaves operations, sweeps and the inbox to separate workers (`empause worker`)."""
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
    app.state.background = background
    app.state.email_signin = EmailSignin(settings.public_url, Mailer.from_settings(settings))

    app.add_exception_handler(WebError, web_error_handler)
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(RecursionError, too_deep_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(Exception, server_error_handler)

    for module in (auth, email_signin, dashboard, audit, keys, events, api, ops, stream):
        app.include_router(module.router)
    app.include_router(webhooks.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_middleware(BodyLimit)
    # Added last = outermost: headers and metrics see every response.
    app.add_middleware(SecurityHeaders, hsts=sessions.secure_cookies(settings.public_url))
    app.add_middleware(RequestMetrics)
    return app
