"""Helpers for driving the sandbox as members would, and reading what was decided."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from empause.domain.timeutil import format_time, parse_time
from empause.sandbox.seed import FACEBOOK_PROFILE_ID, STAFF_MEMBER_ID
from empause.store.db import Database
from empause.store.models import AuditEvent, InboxEvent, Prescreening


def write_message(
    control: Any, member_id: str = STAFF_MEMBER_ID, ahead: timedelta = timedelta(hours=2),
    text: str = "Summer fair this weekend",
) -> dict:  # fmt: skip
    """A member writes a message due `ahead` of the sandbox's clock."""
    now = parse_time(control.state()["now"])
    return control.create_message(
        control.token(member_id=member_id),
        text=text,
        socialProfileIds=[FACEBOOK_PROFILE_ID],
        scheduledSendTime=format_time(now + ahead),
    )


def sandbox_message(control: Any, message_id: str) -> dict:
    return next(m for m in control.state()["messages"] if m["id"] == message_id)


async def decision(db: Database, message_id: str) -> Prescreening | None:
    async with db.sessions() as session:
        return await session.scalar(
            select(Prescreening).where(Prescreening.message_id == message_id)
        )


async def decided(db: Database, message_id: str, expected: str) -> Prescreening | None:
    row = await decision(db, message_id)
    return row if row is not None and row.decision == expected else None


async def handled(db: Database, message_id: str, state: str) -> bool:
    """The worker has finished an event about this message in this state."""
    async with db.sessions() as session:
        row = await session.scalar(
            select(InboxEvent).where(
                InboxEvent.message_id == message_id,
                InboxEvent.state == state,
                InboxEvent.status == "done",
            )
        )
    return row is not None


async def audit_actions(db: Database, message_id: str) -> list[str]:
    async with db.sessions() as session:
        events = (await session.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars()
        return [e.action for e in events if e.detail.get("message_id") == message_id]


def member_call(base_url: str, control: Any, member_id: str, method: str, path: str,
                body: dict | None = None) -> httpx.Response:  # fmt: skip
    """A member acting in Hootsuite directly (the sandbox's REST API, their own token)."""
    return httpx.request(
        method, f"{base_url}{path}", json=body,
        headers={"Authorization": f"Bearer {control.token(member_id=member_id)}"},
    )  # fmt: skip
