"""Prescreening by polling, for platforms that send no webhooks (SocialHub).

Every `interval` (EMPAUSE_PENDING_POLL_INTERVAL, default 2 s) the poller lists what awaits
approval (`platform.pending()`: one request per hundred pending posts) and hands each post
that is new or changed to the Prescreener: the same decision code a Hootsuite webhook event
reaches, so there is one policy. SocialHub's API has no "changed since" filter for posts
(`since`/`until` apply to createdTime or publishTime, whichever `sortBy` names, and a post
suggested for approval today may have been created weeks ago), so the listing is always
whole and what changed is told apart here: a post's version is a digest of its full JSON,
and one decision is taken per version and pause state (a pause or a resume re-decides what
is still pending). A failed decision is not remembered: the next poll tries again.

While not paused, a post the pause held is never approved by polling: releasing it is the
resume's (`release.release_held`, soonest first, not once its time has passed) or a human's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

from sqlalchemy import select

from empause.config import PENDING_POLL_INTERVAL
from empause.domain.model import Message, PrescreenDecision
from empause.domain.organization import OrganizationConfig
from empause.platforms.port import Platform
from empause.prescreen.decisions import pause_state
from empause.prescreen.logs import log
from empause.prescreen.screen import Enforcer, Prescreener
from empause.store.db import Database
from empause.store.models import Prescreening

HELD_OUTCOME = "held-until-resume"  # not paused, held by the pause: left to the release


def version(message: Message) -> str:
    """A digest of the message as the platform returned it: any change is a new version."""
    body = json.dumps(message.raw, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


class PendingPoller:
    """Polls one organization's pending items and decides on the new or changed ones."""

    def __init__(
        self,
        db: Database,
        platform: Platform,
        engine: Enforcer,
        settings: OrganizationConfig,
        *,
        interval: float = PENDING_POLL_INTERVAL.total_seconds(),
        concurrency: int | None = None,
        team_ttl: float = 10.0,
    ):
        self.db = db
        self.platform = platform
        self.settings = settings
        self.organization_id = settings.organization_id
        self.screen = Prescreener(db, platform, engine, settings, team_ttl)
        self.interval = interval
        self.concurrency = concurrency or settings.concurrency
        self.polls = 0
        self.decisions = 0
        # message id -> (version, paused) of the last decision taken on it
        self._decided: dict[str, tuple[str, bool]] = {}
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start polling in the running loop (the first poll at once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="prescreen-pending-poller"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    async def _run(self) -> None:
        log("prescreen.poller.started", interval=self.interval,
            organization_id=self.organization_id)  # fmt: skip
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # upstream or the database briefly away: keep polling
                log("prescreen.poller.error", level=logging.WARNING, error=repr(exc),
                    organization_id=self.organization_id)  # fmt: skip
            await asyncio.sleep(self.interval)

    # -- one poll ---------------------------------------------------------------------------

    async def poll_once(self) -> dict[str, str]:
        """List what is pending, decide on what is new or changed; message id -> outcome of
        the decisions taken in this poll (an empty dict when nothing changed)."""
        self.polls += 1
        pending = await self.platform.pending()  # soonest-due first
        async with self.db.sessions() as session:
            paused = (
                await pause_state(session, self.organization_id, self.settings.horizon)
            ).paused
        listed = {m.id for m in pending}
        for gone in set(self._decided) - listed:  # approved, rejected or withdrawn since
            del self._decided[gone]
        fresh = [m for m in pending if self._decided.get(m.id) != (version(m), paused)]
        if not fresh:
            return {}
        held = set() if paused else await self._held([m.id for m in fresh])
        limit = asyncio.Semaphore(self.concurrency)
        outcomes: dict[str, str] = {}

        async def decide(message: Message) -> None:
            key = (version(message), paused)
            if message.id in held:
                outcomes[message.id] = HELD_OUTCOME
                self._decided[message.id] = key
                return
            async with limit:
                try:
                    outcome = await self.screen.screen_pending(message)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # worth retrying: the next poll decides again
                    log("prescreen.retry", level=logging.WARNING, message_id=message.id,
                        error=repr(exc), via="poll")  # fmt: skip
                    outcomes[message.id] = "retry"
                    return
            outcomes[message.id] = outcome
            self._decided[message.id] = key
            self.decisions += 1
            log("prescreen.handled", outcome=outcome, message_id=message.id, via="poll")

        await asyncio.gather(*(decide(m) for m in fresh))
        return outcomes

    async def _held(self, ids: list[str]) -> set[str]:
        """Which of these the pause held and the resume has not released (yet)."""
        async with self.db.sessions() as session:
            found = await session.scalars(
                select(Prescreening.message_id).where(
                    Prescreening.organization_id == self.organization_id,
                    Prescreening.decision == PrescreenDecision.HELD.value,
                    Prescreening.message_id.in_(ids),
                )
            )
            return set(found)
