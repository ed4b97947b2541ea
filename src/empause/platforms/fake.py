"""An in-memory platform for fast engine tests. It passes the same contract suite as the real
adapters (tests/contract), in either shape: copies (like Hootsuite: neutralise deletes,
restore re-creates with a new id) or in place (like SocialHub: neutralise unschedules to a
draft, restore moves the same item). Its clock is controlled; `advance` publishes what is due
and logs it, so tests can check that nothing published while paused.

Faults are queued per operation: `fail_next("restore", Ambiguous("lost"), applied=True)` makes
the next restore happen and then answer as if the response was lost.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from empause.domain.model import Message, MessageState, is_copy_of
from empause.platforms.port import AlreadySent, Capabilities, NotFound, Permanent

PAGE_SIZE = 50
DRAFT = "DRAFT"  # an in-place platform's unscheduled item (SocialHub's draft)
LIVE = {MessageState.SCHEDULED.value, MessageState.PENDING_APPROVAL.value}


@dataclass
class _Fault:
    error: Exception
    applied: bool  # the operation happened before the error (a lost response)


@dataclass
class FakePlatform:
    moves_in_place: bool = False
    now: datetime = field(default_factory=lambda: datetime(2030, 1, 1, 9, 0, tzinfo=UTC))
    teams: dict[str, set[str]] = field(default_factory=dict)  # member id -> team ids
    requests_per_second: float = 20.0
    name: str = "fake"

    def __post_init__(self) -> None:
        self.capabilities = Capabilities(
            moves_in_place=self.moves_in_place,
            webhooks=not self.moves_in_place,
            requests_per_second=self.requests_per_second,
        )
        self.items: dict[str, Message] = {}
        self.published: list[str] = []
        self.calls: Counter[str] = Counter()
        self._ids = itertools.count(1000)
        self._faults: defaultdict[str, list[_Fault]] = defaultdict(list)

    # -- test controls ----------------------------------------------------------------------

    def add(
        self, text: str, due_in: timedelta, *, profile_id: str = "p1", author_id: str = "m-staff",
        state: str = MessageState.SCHEDULED.value, **raw: Any,
    ) -> Message:  # fmt: skip
        item_id = str(next(self._ids))
        when = self.now + due_in
        message = Message(
            id=item_id, state=state, scheduled_send_time=when, profile_id=profile_id, text=text,
            author_id=author_id, sequence_number=1,
            raw={"id": item_id, "text": text, "socialProfile": {"id": profile_id}, **raw},
        )  # fmt: skip
        self.items[item_id] = message
        return message

    def advance(self, seconds: float) -> list[str]:
        """Move the clock; every SCHEDULED item now due publishes (SENT), in time order."""
        self.now += timedelta(seconds=seconds)
        due = sorted(
            (m for m in self.items.values()
             if m.state == MessageState.SCHEDULED.value and m.scheduled_send_time <= self.now),
            key=lambda m: (m.scheduled_send_time, m.id),
        )  # fmt: skip
        for message in due:
            self.items[message.id] = replace(message, state=MessageState.SENT.value)
            self.published.append(message.id)
        return [m.id for m in due]

    def fail_next(self, operation: str, error: Exception, *, applied: bool = False) -> None:
        self._faults[operation].append(_Fault(error, applied))

    def live(self) -> list[Message]:
        return [m for m in self.items.values() if m.state in LIVE]

    def _call(self, operation: str) -> _Fault | None:
        self.calls[operation] += 1
        queue = self._faults.get(operation)
        fault = queue.pop(0) if queue else None
        if fault is not None and not fault.applied:
            raise fault.error
        return fault

    @property
    def api_calls(self) -> int:
        return sum(self.calls.values())

    # -- the port ---------------------------------------------------------------------------

    async def list_due(self, start: datetime, end: datetime) -> AsyncIterator[list[Message]]:
        due = sorted(
            (m for m in self.items.values()
             if m.state == MessageState.SCHEDULED.value and start <= m.scheduled_send_time < end),
            key=lambda m: (m.scheduled_send_time, m.id),
        )  # fmt: skip
        for offset in range(0, len(due), PAGE_SIZE):
            self._call("list_due")
            yield due[offset : offset + PAGE_SIZE]

    async def get(self, message_id: str) -> Message | None:
        self._call("get")
        found = self.items.get(message_id)
        return None if found is None or found.state == MessageState.DELETED.value else found

    async def neutralise(self, message: Message) -> None:
        fault = self._call("neutralise")
        found = self.items.get(message.id)
        if found is None or found.state == MessageState.DELETED.value:
            raise NotFound(f"no item {message.id}")
        if found.state == MessageState.SENT.value:
            raise AlreadySent(f"item {message.id} was published")
        if self.moves_in_place and found.state == DRAFT:
            raise NotFound(f"item {message.id} is not scheduled")
        state = DRAFT if self.moves_in_place else MessageState.DELETED.value
        self.items[message.id] = replace(found, state=state)
        if fault is not None:
            raise fault.error

    async def restore(self, message: Message, when: datetime) -> Message:
        fault = self._call("restore")
        if when <= self.now:
            raise Permanent("the time must be in the future", status=400)
        if self.moves_in_place:
            found = self.items.get(message.id)
            if found is None or found.state in (MessageState.DELETED.value,
                                                MessageState.SENT.value):  # fmt: skip
                raise NotFound(f"no item {message.id} to move")
            made = replace(found, state=MessageState.SCHEDULED.value, scheduled_send_time=when)
        else:
            item_id = str(next(self._ids))
            made = replace(
                message, id=item_id, state=MessageState.SCHEDULED.value,
                scheduled_send_time=when, raw={**message.raw, "id": item_id},
            )  # fmt: skip
        self.items[made.id] = made
        if fault is not None:
            raise fault.error
        return made

    async def find_restored(
        self, message: Message, when: datetime, exclude: set[str]
    ) -> Message | None:
        self._call("find_restored")
        if self.moves_in_place:
            found = self.items.get(message.id)
            ok = found is not None and found.state in LIVE and found.scheduled_send_time == when
            return found if ok else None
        copies = (m for m in self.items.values() if is_copy_of(m, message, when, exclude))
        return next(copies, None)

    async def pending(self) -> list[Message]:
        self._call("pending")
        waiting = MessageState.PENDING_APPROVAL.value
        return [m for m in self.items.values() if m.state == waiting]

    async def approve(self, message_id: str, sequence_number: int) -> None:
        self._review(message_id, MessageState.SCHEDULED.value)

    async def reject(self, message_id: str, sequence_number: int, reason: str) -> None:
        self._review(message_id, MessageState.REJECTED.value)

    def _review(self, message_id: str, state: str) -> None:
        self._call("review")
        found = self.items.get(message_id)
        if found is None or found.state != MessageState.PENDING_APPROVAL.value:
            raise Permanent(f"item {message_id} is not awaiting approval", status=409)
        self.items[message_id] = replace(found, state=state)

    async def member_team_ids(self, member_id: str) -> set[str]:
        self._call("member_team_ids")
        return set(self.teams.get(member_id, set()))

    async def team_ids(self) -> set[str]:
        self._call("team_ids")
        return {team for teams in self.teams.values() for team in teams}

    async def profile_names(self) -> dict[str, str]:
        return {p: f"Profile {p}" for p in sorted({m.profile_id for m in self.items.values()})}

    async def aclose(self) -> None:
        return None
