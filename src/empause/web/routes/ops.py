"""Operations endpoints: readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from empause.web import metrics
from empause.web.errors import WebError

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 once the app is started and the database answers; 503 otherwise."""
    db = getattr(request.app.state, "db", None)
    if db is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    try:
        async with db.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        # Anyone may ask: the error (hosts, user names) goes to the log, not the answer.
        log.warning("health check: database unavailable", extra={"error": str(exc)})
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok"})


class NotServed(WebError):
    status = 404
    title = "Not found"


class MetricsRefused(WebError):
    status = 401
    title = "Metrics need their token"


@router.get("/metrics", include_in_schema=False)
async def prometheus(request: Request) -> Response:
    """Only for a scraper holding EMPAUSE_METRICS_TOKEN (as a bearer token); without that
    setting the public listener does not serve metrics at all."""
    expected = request.app.state.settings.metrics_token
    if not expected:
        raise NotServed("Metrics are off: set EMPAUSE_METRICS_TOKEN to serve them.")
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        sent.strip().encode(), expected.encode()
    ):
        raise MetricsRefused("Send the metrics token as 'Authorization: Bearer <token>'.")
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
