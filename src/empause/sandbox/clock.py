"""The sandbox clock: real time plus an offset, which tests can read, set, advance and freeze."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Runs in real time by default; `set`/`advance` shift it, `freeze` stops it."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return datetime.now(UTC) + self._offset

    def set(self, when: datetime) -> None:
        if self._frozen_at is not None:
            self._frozen_at = when
        else:
            self._offset = when - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        self.set(self.now() + timedelta(seconds=seconds))

    def freeze(self, frozen: bool) -> None:
        if frozen and self._frozen_at is None:
            self._frozen_at = self.now()
        elif not frozen and self._frozen_at is not None:
            self._offset = self._frozen_at - datetime.now(UTC)
            self._frozen_at = None
