"""What the job plumbing needs from the application, and what it offers to it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Handlers(Protocol):
    """The bodies of the jobs; supplied by the composition root (bootstrap).

    Every handler is idempotent: it may run again after a crash, a retry or a takeover.
    """

    async def run_operation(self, organization_id: str, operation_id: int) -> None:
        """Finish this operation (and any other unfinished one) of the organization."""

    async def sweep(self, organization_id: str) -> None:
        """A full enforcement sweep of a paused organization."""

    async def paused_organizations(self) -> list[str]:
        """The organizations to sweep periodically."""

    async def fire_timers(self, organization_id: str) -> None:
        """Start a scheduled pause or end a timed one whose time has come (once)."""

    async def due_timers(self) -> list[str]:
        """Organizations with a scheduled start or a pause end that has come."""


class JobQueue(Protocol):
    async def defer_timer(self, organization_id: str, when: datetime) -> None:
        """Have a worker fire the organization's timers at `when` (held in the database on
        PostgreSQL; the periodic check catches any missed one on both queues)."""

    async def defer_operation(self, organization_id: str, operation_id: int) -> None:
        """Have a worker finish the operation; deferring it twice is harmless."""

    async def defer_sweep(self, organization_id: str) -> None:
        """Have a worker sweep the organization; a sweep already waiting absorbs this one."""
