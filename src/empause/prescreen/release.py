"""Releasing held messages when the emergency ends.

Each held message is re-read from the platform: if it is still pending approval and still
comfortably in the future, it is approved (soonest first, so the
next one due goes out first); anything else is left for a human, listed for review.
Call after the pause is lifted: approving while paused would break invariant 3.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from empause.domain.model import Message, MessageState, PrescreenDecision
from empause.domain.organization import OrganizationConfig
from empause.domain.timeutil import utcnow
from empause.engine.results import HeldRelease, HeldReview
from empause.platforms.port import Permanent, Platform, PlatformError
from empause.prescreen.decisions import save_decision
from empause.prescreen.logs import log
from empause.prescreen.queries import list_decisions
from empause.store.db import Database
from empause.store.models import Prescreening

# A message due sooner than this would publish before a human could look at it again.
RELEASE_MARGIN = timedelta(minutes=1)


def _review(row: Prescreening, why: str, message: Message | None = None) -> HeldReview:
    when = message.scheduled_send_time if message else row.scheduled_send_time
    return {
        "message_id": row.message_id,
        "author_id": row.author_id,
        "scheduled_send_time": when.isoformat() if when else None,
        "state": message.state if message else None,
        "text": (message.text if message else str(row.message_json.get("text", "")))[:280],
        "why": why,
    }


def _why_not(message: Message | None, now: datetime) -> str | None:
    """None when the message may be released now, else the reason a human must look."""
    if message is None:
        return "no longer exists upstream"
    if message.state != MessageState.PENDING_APPROVAL.value:
        return f"no longer pending approval (now {message.state})"
    if message.sequence_number is None:
        return "no sequenceNumber"
    if message.scheduled_send_time < now + RELEASE_MARGIN:
        return "its send time has passed"
    return None


async def release_held(
    db: Database,
    platform: Platform,
    org: OrganizationConfig,
    clock: Callable[[], datetime] = utcnow,
) -> HeldRelease:
    """Approve what can be, in send-time order; returns counts and the list for review.
    `clock` is the engine's (the platform's time: what has passed is never approved)."""
    org_id = org.organization_id
    async with db.sessions() as session:
        held = await list_decisions(session, org_id, PrescreenDecision.HELD.value)
    held.sort(key=lambda r: (r.scheduled_send_time is None, r.scheduled_send_time, r.message_id))
    released: list[str] = []
    review: list[HeldReview] = []
    for row in held:
        try:
            message = await platform.get(row.message_id)
        except PlatformError as exc:
            review.append(_review(row, f"could not read it: {exc}"))
            continue
        why = _why_not(message, clock())
        if why is None:
            assert message is not None and message.sequence_number is not None
            try:
                await platform.approve(message.id, message.sequence_number)
            except Permanent as exc:
                why = f"approval refused: {exc}"
            except PlatformError as exc:
                why = f"approval failed, try again: {exc}"
        if why is not None:
            review.append(_review(row, why, message))
            log("prescreen.review", level=logging.WARNING, message_id=row.message_id, why=why)
            continue
        assert message is not None
        async with db.sessions() as session:
            await save_decision(
                session, org_id, message, PrescreenDecision.RELEASED, "released on resume"
            )
            await session.commit()
        released.append(message.id)
        log("prescreen.decision", decision="released", message_id=message.id,
            author_id=message.author_id)  # fmt: skip
    result: HeldRelease = {"held": len(held), "released": len(released), "review": review,
                           "released_ids": released}  # fmt: skip
    log("prescreen.release", held=len(held), released=len(released), review=len(review))
    return result
