"""The audit log, on a page and as CSV (times in UTC ISO-8601 in the file, for machines)."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from empause.web import queries
from empause.web.deps import Viewer, db_session, viewer
from empause.web.templating import render

router = APIRouter()


@router.get("/audit")
async def audit_page(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Response:
    events = await queries.audit_events(session, who.organization_id)
    return render(request, "audit.html", {"events": events})


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet may run these as formulas


def _cell(value: str) -> str:
    """Defuse formula injection: a leading quote makes the cell plain text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


@router.get("/audit.csv")
async def audit_csv(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    session: Annotated[AsyncSession, Depends(db_session)],
) -> Response:
    events = await queries.audit_events(
        session, who.organization_id, limit=None
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "actor", "action", "detail"])
    for event in events:
        writer.writerow(
            [
                event.at.isoformat(),
                _cell(event.actor),
                _cell(event.action),
                _cell(json.dumps(event.detail, sort_keys=True, default=str)),
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="empause-audit.csv"'},
    )
