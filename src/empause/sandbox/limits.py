"""Per-account rate limit (fixed one-second windows) and daily quota, as Hootsuite publishes.

Windows follow wall-clock time, not the sandbox clock: throttling is about real load.
"""

from __future__ import annotations

import time

DAILY_QUOTA = 100_000


class RateLimiter:
    """Counts calls per account; `check` says whether a call may proceed and what headers say."""

    def __init__(self, per_second: float = 20, daily_quota: int = DAILY_QUOTA) -> None:
        self.per_second = per_second
        self.daily_quota = daily_quota
        self._window: dict[str, tuple[int, int]] = {}  # account -> (second, count)
        self._day: dict[str, tuple[int, int]] = {}  # account -> (day, count)

    def reset(self) -> None:
        self._window.clear()
        self._day.clear()

    def check(self, account: str) -> tuple[int | None, list[tuple[bytes, bytes]]]:
        """(error code or None, X-Account-* headers). Refused calls do not use quota."""
        now = time.time()
        second, day = int(now), int(now // 86400)
        w_second, w_count = self._window.get(account, (second, 0))
        if w_second != second:
            w_count = 0
        d_day, d_count = self._day.get(account, (day, 0))
        if d_day != day:
            d_count = 0
        limit = int(self.per_second) if self.per_second > 0 else 0
        code = None
        if d_count >= self.daily_quota:
            code = 1003
        elif limit and w_count >= limit:
            code = 1043
        else:
            w_count += 1
            d_count += 1
        self._window[account] = (second, w_count)
        self._day[account] = (day, d_count)
        remaining = max(0, limit - w_count) if limit else 1_000_000
        headers = [
            (b"x-account-quota", f"{self.daily_quota} per day".encode()),
            (b"x-account-quota-used", str(d_count).encode()),
            (b"x-account-rate-limit-requests-remaining", str(remaining).encode()),
        ]
        return code, headers
