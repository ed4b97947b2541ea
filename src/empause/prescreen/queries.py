"""Read side for the dashboard and the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from empause.store.models import Prescreening


async def list_decisions(
    session: AsyncSession, organization_id: str, decision: str | None = None
) -> list[Prescreening]:
    """Decisions for one organization, newest first; `decision` filters (e.g. "held")."""
    query = select(Prescreening).where(Prescreening.organization_id == organization_id)
    if decision is not None:
        query = query.where(Prescreening.decision == decision)
    result = await session.execute(
        query.order_by(Prescreening.decided_at.desc(), Prescreening.id.desc())
    )
    return list(result.scalars())
