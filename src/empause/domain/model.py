"""The domain: messages, pauses and the plan of moves. Pure: no I/O, no framework.

A `Message` keeps the platform's full JSON (`raw`) because the invariant "no loss" is about
every field, including ones we do not model; the typed attributes are the few the rules need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Strategy(StrEnum):
    SHIFT = "shift"  # re-create each message `shift` later, delete the original
    HOLD = "hold"  # delete the original, keep it in the journal until resume


class Restore(StrEnum):
    ORIGINAL = "original"  # put moved messages back at their original time where still future
    KEEP = "keep"  # only lift the pause


class OperationKind(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"


class OperationStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # finished, with journal entries that need a human


class Step(StrEnum):
    """A journal entry's progress; each step is durable before the next upstream call."""

    PLANNED = "planned"  # original JSON recorded, nothing touched upstream yet
    NEUTRALISED = "neutralised"  # original deleted (Hootsuite) / unscheduled (SocialHub)
    HELD = "held"  # hold strategy: neutralised and kept in the journal until resume
    CREATED = "created"  # copy exists upstream at new_time (new_id known)
    RESTORED = "restored"  # resume put it back (copy at original time, or re-created)
    KEPT = "kept"  # resume left it where it was (restore=keep, or original time passed)
    SKIPPED = "skipped"  # nothing to do (already sent, already gone before we touched it)
    FAILED = "failed"  # permanent error: visible, original JSON restorable


class MessageState(StrEnum):
    SCHEDULED = "SCHEDULED"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    SUBMITTED = "SUBMITTED"
    SENT = "SENT"
    SEND_FAILED_PERMANENTLY = "SEND_FAILED_PERMANENTLY"
    REJECTED = "REJECTED"
    DELETED = "DELETED"


class PrescreenDecision(StrEnum):
    """What prescreening decided on a message pending approval (the latest one is kept)."""

    APPROVED = "approved"  # approved upstream (not paused, or an emergency-team author)
    HELD = "held"  # a held message: recorded, not approved, released on resume
    REJECTED = "rejected"  # rejected upstream (held_action = reject)
    RELEASED = "released"  # a held message approved once the pause was lifted


@dataclass(frozen=True, slots=True)
class Message:
    """One scheduled post on one social profile, as the platform reported it."""

    id: str
    state: str
    scheduled_send_time: datetime
    profile_id: str
    text: str = ""
    author_id: str | None = None
    sequence_number: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def shifted_time(original: datetime, shift: timedelta, not_before: datetime) -> datetime:
    """`original + k*shift` for the smallest k >= 1 that lands at or after `not_before`.

    A pause longer than its horizon pushes messages again; a short shift with a long horizon
    still clears the window.
    """
    if shift <= timedelta(0):
        raise ValueError("shift must be positive")
    steps = max(1, math.ceil((not_before - original) / shift))
    return original + steps * shift


def urgency(scheduled_send_time: datetime, message_id: str) -> tuple[datetime, str]:
    """Soonest-due first: the one that would publish next is the most urgent."""
    return (scheduled_send_time, message_id)


def neutralisation_order(messages: list[Message]) -> list[Message]:
    return sorted(messages, key=lambda m: urgency(m.scheduled_send_time, m.id))


def restore_time(original: datetime, now: datetime, margin: timedelta) -> datetime | None:
    """The original time when it is still comfortably in the future, else None (review it)."""
    return original if original >= now + margin else None


# A copy counts as made in any state that can still publish or has published.
LIVE_STATES = frozenset(
    {MessageState.SCHEDULED, MessageState.PENDING_APPROVAL, MessageState.APPROVED,
     MessageState.SUBMITTED, MessageState.SENT}
)  # fmt: skip


def is_copy_of(candidate: Message, original: Message, when: datetime, exclude: set[str]) -> bool:
    """Whether `candidate` is the copy of `original` at `when` that an earlier (ambiguous)
    re-creation made: live, same profile and text, at that time, and claimed by nobody."""
    return (
        candidate.id not in exclude
        and candidate.id != original.id
        and candidate.state in LIVE_STATES
        and candidate.profile_id == original.profile_id
        and candidate.text == original.text
        and candidate.scheduled_send_time == when
    )


def may_publish_while_paused(author_teams: set[str], emergency_team_id: str) -> bool:
    """Invariant 3: while paused only emergency-team members' posts go out."""
    return emergency_team_id in author_teams
