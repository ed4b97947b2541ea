"""What the engine needs from a scheduler: the semantics of a pause, not of one platform.

To *neutralise* an item is to make sure it cannot publish; to *restore* it is to put it in
the schedule at a given time. How is the adapter's business, and its `capabilities` tell the
engine what that costs: Hootsuite cannot edit a scheduled message, so it neutralises by
deleting and restores by re-creating a copy (a new id); SocialHub moves a post in place
(same id, one call), so a shift there is a single `restore`. The engine only relies on the
contract written here; tests/contract runs the same cases against every adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from empause.domain.model import Message


class PlatformError(Exception):
    """An upstream failure the engine may retry."""


class Transient(PlatformError):
    """5xx, 429 after retries, connection trouble: try again later."""


class Ambiguous(PlatformError):
    """The request may or may not have been applied (timeout, lost response)."""


class Permanent(PlatformError):
    """The platform refused for good (validation, permissions): a human must look."""

    def __init__(self, message: str, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


class NotFound(Permanent):
    """No such message (already deleted, or never existed)."""


class AlreadySent(Permanent):
    """The message was published before we could touch it (Hootsuite error 40003)."""


class AuthError(Permanent):
    """Credentials are wrong or revoked; retrying will not help."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an adapter can do, and what it costs, for the engine to plan with."""

    moves_in_place: bool  # restore keeps the id, and one call moves an item (no neutralise)
    webhooks: bool  # pending items arrive by webhook (else prescreening polls `pending`)
    requests_per_second: float  # the upstream budget per account


class Platform(Protocol):
    """One organization on one scheduler, acting with the organization's app credentials."""

    name: str
    capabilities: Capabilities

    @property
    def api_calls(self) -> int:
        """Requests sent upstream so far (for operation summaries)."""
        ...

    def list_due(self, start: datetime, end: datetime) -> AsyncIterator[list[Message]]:
        """Pages of SCHEDULED items due in [start, end), soonest first, any window length."""
        ...

    async def get(self, message_id: str) -> Message | None:
        """The item as it is now, or None if it does not exist (or is deleted)."""
        ...

    async def neutralise(self, message: Message) -> None:
        """Make sure the item cannot publish. Raises NotFound / AlreadySent."""
        ...

    async def restore(self, message: Message, when: datetime) -> Message:
        """Put the item in the schedule at `when`, every field preserved: a new copy (new id)
        or the same item moved (same id), as `capabilities.moves_in_place` says.

        May raise Ambiguous: then call `find_restored` before trying again.
        """
        ...

    async def find_restored(
        self, message: Message, when: datetime, exclude: set[str]
    ) -> Message | None:
        """The item at `when` that an earlier (ambiguous) `restore` made, not in `exclude`."""
        ...

    async def pending(self) -> list[Message]:
        """Items awaiting approval now (what polling prescreening looks at)."""
        ...

    async def approve(self, message_id: str, sequence_number: int) -> None: ...

    async def reject(self, message_id: str, sequence_number: int, reason: str) -> None: ...

    async def member_team_ids(self, member_id: str) -> set[str]:
        """The organization's teams the member belongs to, read from the platform now."""
        ...

    async def team_ids(self) -> set[str]:
        """The organization's teams (proves the credentials and the organization)."""
        ...

    async def profile_names(self) -> dict[str, str]:
        """Display names of the organization's social profiles (channels), by id."""
        ...

    async def aclose(self) -> None: ...
