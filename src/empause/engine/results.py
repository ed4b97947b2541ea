"""What the engine answers, typed: the JSON keys the CLI, the API and the dashboard show.

They are TypedDicts, so a result is still the plain JSON object those interfaces print
(`empause pause --json`, `GET /api/status`), while mypy checks every key the code reads or
writes. Outcomes that were strings are enums that compare equal to those strings.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypedDict


class ReviewItem(TypedDict):
    """A journal entry a human should look at."""

    operation_id: int
    operation: str
    message_id: str
    new_id: str | None
    profile_id: str
    text: str
    original_time: str | None
    new_time: str | None
    step: str
    why: str


class OperationSummary(TypedDict, total=False):
    """One operation's figures (all present once read; absent when there is none)."""

    operation_id: int
    kind: str
    status: str
    strategy: str | None
    restore: str | None
    requested_by: str
    reason: str | None
    horizon_seconds: int | None
    shift_seconds: int | None
    window_start: str | None
    window_end: str | None
    listed: bool
    in_scope: int
    moved: int
    failed: int
    skipped: int
    kept: int
    steps: dict[str, int]
    api_calls: int
    started_at: str | None
    safe_at: str | None
    finished_at: str | None
    seconds_to_safety: float | None
    total_seconds: float | None
    error: str | None
    recovered: bool


class Status(TypedDict):
    """The organization now: paused or not, the last operation, what to review."""

    organization_id: str
    paused: bool
    reason: str | None
    by: str | None
    since: str | None
    strategy: str | None
    horizon_seconds: int | None
    shift_seconds: int | None
    ends_at: str | None  # a timed pause's end, who set it and how it restores
    end_restore: str | None
    end_set_by: str | None
    starts_at: str | None  # a scheduled pause's start
    last_operation: OperationSummary | None
    in_scope: int
    moved: int
    failed: int
    seconds_to_safety: float | None
    total_seconds: float | None
    api_calls: int
    review: list[ReviewItem]


class HeldReview(TypedDict):
    message_id: str
    author_id: str | None
    scheduled_send_time: str | None
    state: str | None
    text: str
    why: str


class HeldRelease(TypedDict):
    """Held messages approved on resume, and those left for a human."""

    held: int
    released: int
    released_ids: list[str]
    review: list[HeldReview]


class PauseResult(OperationSummary, total=False):
    already_paused: bool
    paused: bool
    ends_at: str | None


class ResumeResult(OperationSummary, total=False):
    not_paused: bool
    paused: bool
    held: HeldRelease
    review: list[ReviewItem]


class EnforceCounts(TypedDict):
    moved: int
    pushed_again: int
    retried: int
    allowed: int
    ignored: int
    failed: int


class SweepResult(TypedDict, total=False):
    paused: bool
    busy: bool
    listed: int
    moved: int
    pushed_again: int
    retried: int
    allowed: int
    ignored: int
    failed: int


class EnforceOutcome(StrEnum):
    """What enforcing one message (a webhook's) did."""

    NOT_PAUSED = "not paused"
    GONE = "gone"
    IGNORED = "ignored"
    MOVED = "moved"
    PUSHED_AGAIN = "pushed_again"
    RETRIED = "retried"
    ALLOWED = "allowed"
