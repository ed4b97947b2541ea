"""What the engine needs from a scheduler, independent of Hootsuite or SocialHub.

Hootsuite has no update endpoint, so `neutralise` deletes and `reschedule` re-creates a copy
(new id). SocialHub can unschedule and schedule a post in place (same id). The engine only
relies on the contract written here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
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


class Platform(Protocol):
    """One organization on one scheduler, acting with the organization's app credentials."""

    name: str
    moves_in_place: bool  # True: reschedule keeps the id (SocialHub); False: new copy (Hootsuite)

    def scheduled_pages(self, start: datetime, end: datetime) -> AsyncIterator[list[Message]]:
        """Pages of SCHEDULED messages due in [start, end), soonest first, any window length."""
        ...

    async def get_message(self, message_id: str) -> Message | None:
        """The message as it is now, or None if it does not exist (or is deleted)."""
        ...

    async def neutralise(self, message: Message) -> None:
        """Make sure the message cannot publish. Raises NotFound / AlreadySent."""
        ...

    async def reschedule(self, message: Message, when: datetime) -> Message:
        """Put a neutralised message back in the schedule at `when`, every field preserved.

        May raise Ambiguous: then call `find_rescheduled` before trying again.
        """
        ...

    async def find_rescheduled(
        self, message: Message, when: datetime, exclude: set[str]
    ) -> Message | None:
        """The live copy of `message` at `when` not in `exclude`, if an earlier attempt made one."""
        ...

    async def approve(self, message_id: str, sequence_number: int) -> None: ...

    async def reject(self, message_id: str, sequence_number: int, reason: str) -> None: ...

    async def member_team_ids(self, member_id: str) -> set[str]:
        """The organization's teams the member belongs to, read from the platform now."""
        ...

    async def profile_names(self) -> dict[str, str]:
        """Display names of the organization's social profiles, by id, for people reading
        what moved ("Facebook page @citynews" says more than an id)."""
        ...

    async def aclose(self) -> None: ...
