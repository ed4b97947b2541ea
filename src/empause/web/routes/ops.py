"""Operations endpoints: readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from empause.web import metrics

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


@router.get("/metrics")
async def prometheus() -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
