"""Deciding on one inbox event, from what the platform says now (never from the payload).

PENDING_APPROVAL: approve emergency-team authors; hold (or reject) everyone else while
paused; approve (or ignore) when not paused. SCHEDULED / APPROVED while paused: a message
by anyone else due inside the window goes to the engine's single-message enforcement.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy import select

from empause.domain.model import Message, MessageState, PrescreenDecision
from empause.domain.organization import OrganizationConfig
from empause.domain.timeutil import utcnow
from empause.platforms.membership import MembershipChecker
from empause.platforms.port import Ambiguous, Permanent, Platform
from empause.prescreen.decisions import PauseState, audit, pause_state, save_decision
from empause.prescreen.inbox import gate
from empause.prescreen.logs import log
from empause.store.db import Database
from empause.store.models import InboxEvent, JournalEntry, Prescreening

REJECT_REASON = (
    "Emergency pause: only the Emergency Management team can publish right now. "
    "Your message is queued until the emergency ends; it was not published."
)
_ENFORCED_STATES = {MessageState.SCHEDULED.value, MessageState.APPROVED.value}


class Enforcer(Protocol):
    """The engine's single-message enforcement (empause.engine.service.Engine)."""

    async def enforce_message(self, message_id: str) -> str: ...


class Prescreener:
    def __init__(
        self,
        db: Database,
        platform: Platform,
        engine: Enforcer,
        settings: OrganizationConfig,
        team_ttl: float = 10.0,
    ):
        self.db = db
        self.platform = platform
        self.engine = engine
        self.settings = settings
        self.org_id = settings.organization_id
        # Membership is asked of the platform (invariant 6); a burst from one author reuses
        # an answer younger than `team_ttl`, and a member the platform refuses is not in it.
        self.membership = MembershipChecker(platform, settings.emergency_team_id, team_ttl)

    async def handle(self, event: InboxEvent) -> str:
        """The outcome, as a short word for logs. Raises only what is worth retrying."""
        where = {"message_id": event.message_id, "state": event.state, "seq_no": event.seq_no}
        if event.organization_id != self.org_id:
            log("prescreen.ignored", reason="organization not protected",
                organization_id=event.organization_id, **where)  # fmt: skip
            return "unprotected"
        if event.state == MessageState.PENDING_APPROVAL.value:
            return await self._pending(event.message_id)
        if event.state in _ENFORCED_STATES:
            return await self._scheduled(event.message_id)
        log("prescreen.ignored", level=logging.DEBUG, reason="state needs nothing", **where)
        return "nothing-to-do"

    async def _pause(self) -> PauseState:
        async with self.db.sessions() as session:
            return await pause_state(session, self.org_id, self.settings.horizon)

    async def _is_emergency_author(self, message: Message) -> bool:
        if not message.author_id:
            return False
        member = await self.membership.check(message.author_id, max_age=self.membership.ttl)
        return member.emergency

    async def _fetch(self, message_id: str, states: set[str]) -> Message | None:
        message = await self.platform.get(message_id)
        if message is None:
            log("prescreen.ignored", reason="unknown or deleted message", message_id=message_id)
            return None
        if message.state not in states:
            log("prescreen.ignored", reason="state changed since the event",
                message_id=message_id, state=message.state)  # fmt: skip
            return None
        return message

    # -- PENDING_APPROVAL -----------------------------------------------------------------

    async def _pending(self, message_id: str) -> str:
        message = await self._fetch(message_id, {MessageState.PENDING_APPROVAL.value})
        if message is None:
            return "stale"
        return await self.screen_pending(message)

    async def screen_pending(self, message: Message) -> str:
        """Decide on a message awaiting approval, as just read from the platform (a webhook
        event after re-reading it, or a polled listing of what is pending)."""
        message_id = message.id
        if message.state != MessageState.PENDING_APPROVAL.value:
            return "nothing-to-do"
        if message.sequence_number is None:
            log("prescreen.ignored", level=logging.WARNING, reason="no sequenceNumber",
                message_id=message_id)  # fmt: skip
            return "invalid"
        pause = await self._pause()
        if not pause.paused:
            if self.settings.prescreen_when_normal == "ignore":
                log("prescreen.ignored", reason="not paused; left to reviewers",
                    message_id=message_id)  # fmt: skip
                return "ignored"
            return await self._approve(message, "not paused")
        if await self._is_emergency_author(message):
            return await self._approve(message, "emergency team member")
        if self.settings.held_action == "reject":
            return await self._reject(message)
        return await self._hold(message)

    async def _approve(
        self,
        message: Message,
        reason: str,
        decision: PrescreenDecision = PrescreenDecision.APPROVED,
    ) -> str:
        assert message.sequence_number is not None
        return await self._review(
            message, "approve", decision, reason,
            lambda seq: self.platform.approve(message.id, seq),
            done_states={MessageState.SCHEDULED.value, MessageState.APPROVED.value,
                         MessageState.SUBMITTED.value, MessageState.SENT.value},
        )  # fmt: skip

    async def _reject(self, message: Message) -> str:
        return await self._review(
            message, "reject", PrescreenDecision.REJECTED, REJECT_REASON,
            lambda seq: self.platform.reject(message.id, seq, REJECT_REASON),
            done_states={MessageState.REJECTED.value},
        )  # fmt: skip

    async def _review(
        self,
        message: Message,
        action: str,
        decision: PrescreenDecision,
        reason: str,
        call: Callable[[int], Awaitable[None]],
        done_states: set[str],
    ) -> str:
        """Approve or reject, then record; a lost response is settled by re-reading."""
        assert message.sequence_number is not None
        try:
            await call(message.sequence_number)
        except Permanent as exc:  # someone else acted first (e.g. 4000 not awaiting approval)
            log("prescreen.refused", level=logging.WARNING, action=action,
                message_id=message.id, error=str(exc), code=exc.code)  # fmt: skip
            return "refused"
        except Ambiguous:
            current = await self.platform.get(message.id)
            if current is not None and current.state == MessageState.PENDING_APPROVAL.value:
                raise  # it did not happen: the worker retries the event
            if current is None or current.state not in done_states:
                log("prescreen.refused", level=logging.WARNING, action=action,
                    message_id=message.id, error="response lost; outcome unknown",
                    state=current.state if current else None)  # fmt: skip
                return "refused"
            reason = f"{reason} (response lost; upstream state {current.state})"
        await self._save(message, decision, reason)
        return decision.value

    async def _hold(self, message: Message) -> str:
        async with gate(self.db).background(), self.db.sessions() as session:
            row = await session.scalar(
                select(Prescreening).where(
                    Prescreening.organization_id == self.org_id,
                    Prescreening.message_id == message.id,
                )
            )
            if (
                row is not None
                and row.decision == PrescreenDecision.HELD.value
                and row.sequence_number == message.sequence_number
            ):
                return "already-held"
            await save_decision(session, self.org_id, message, PrescreenDecision.HELD,
                                "author not in the emergency team; held until resume")  # fmt: skip
            await session.commit()
        log("prescreen.decision", decision="held", message_id=message.id,
            author_id=message.author_id)  # fmt: skip
        # A resume may have released the held list between our read of the pause and the
        # commit above: re-read it, and release this one ourselves if so.
        if not (await self._pause()).paused:
            return await self._approve(
                message, "pause lifted while holding", PrescreenDecision.RELEASED
            )
        return PrescreenDecision.HELD.value

    async def _save(self, message: Message, decision: PrescreenDecision, reason: str) -> None:
        async with gate(self.db).background(), self.db.sessions() as session:
            await save_decision(session, self.org_id, message, decision, reason)
            await session.commit()
        log("prescreen.decision", decision=decision.value, message_id=message.id,
            author_id=message.author_id, reason=reason)  # fmt: skip

    # -- SCHEDULED / APPROVED ---------------------------------------------------------------

    async def _scheduled(self, message_id: str) -> str:
        pause = await self._pause()
        if not pause.paused:
            return "not-paused"
        async with self.db.sessions() as session:
            own_copy = await session.scalar(
                select(JournalEntry.id).where(JournalEntry.new_id == message_id).limit(1)
            )
        if own_copy is not None:
            return "engine-copy"
        message = await self._fetch(message_id, _ENFORCED_STATES)
        if message is None:
            return "stale"
        if message.scheduled_send_time >= utcnow() + pause.horizon:
            return "outside-window"
        if await self._is_emergency_author(message):
            log("prescreen.allowed", message_id=message_id, author_id=message.author_id)
            return "allowed"
        result = await self.engine.enforce_message(message_id)
        async with gate(self.db).background(), self.db.sessions() as session:
            audit(session, self.org_id, "prescreen.enforced", message_id=message_id,
                  author_id=message.author_id, result=str(result),
                  scheduled_send_time=message.scheduled_send_time.isoformat())  # fmt: skip
            await session.commit()
        log("prescreen.enforced", message_id=message_id, author_id=message.author_id,
            result=str(result))  # fmt: skip
        return "enforced"
