"""Client-side pacing for one upstream account, shared by every task that calls it.

Hootsuite counts requests per account in fixed one-second windows and answers 429 past 20,
without Retry-After. We cannot see where the server's windows start, so we keep a sliding log
of our own send times and never send more than `rate` within `period + margin`: any fixed
window of `period` on the server then sees at most `rate` of them, as long as the latency
jitter stays below `margin`. The server's `X-Account-Rate-Limit-Requests-Remaining` header
and its 429s catch the budget being spent by someone else (another process, another app).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from empause.platforms.priority import is_urgent

REMAINING_HEADER = "X-Account-Rate-Limit-Requests-Remaining"
MARGIN = 0.05  # seconds of latency jitter the pacing absorbs (see the module docstring)
_HISTORY = 5.0  # seconds of send times kept beyond one span


class Limiter(Protocol):
    """What a platform client needs from the pacing of one upstream account.

    `RateLimiter` (below) paces one process; `platforms.budget.SharedRateLimiter` paces every
    process that shares a PostgreSQL database. Both order their own waiters the same way.
    """

    penalties: int

    async def acquire(self) -> float:
        """Wait for this request's turn; return the (monotonic) moment it may be sent."""
        ...

    def block(self, seconds: float | None = None) -> None:
        """The server refused (429): hold every caller back until its window has ended."""
        ...

    def observe_headers(self, headers: object, sent_at: float | None = None) -> None:
        """Feed the remaining-requests header of the response to a request sent at `sent_at`."""
        ...


def remaining_from(headers: object) -> int | None:
    """The remaining-requests count in an httpx.Headers-like mapping, if present and sane."""
    getter = getattr(headers, "get", None)
    value = getter(REMAINING_HEADER) if getter else None
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


class WaitLine:
    """Whose turn it is among one process's tasks: urgent callers (platforms.priority) first,
    in arrival order; ordinary ones in arrival order once no urgent caller waits.

    One task at a time holds the turn (while it waits for its slot), so the pacing behind it
    sees one request at a time from this process.
    """

    def __init__(self) -> None:
        # One line per event loop: a limiter may be shared by tasks on several loops (an app
        # served in a thread beside the caller's loop); asyncio's locks belong to one loop.
        self._lines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Line] = (
            weakref.WeakKeyDictionary()
        )

    def _line(self) -> _Line:
        loop = asyncio.get_running_loop()
        line = self._lines.get(loop)
        if line is None:
            line = self._lines[loop] = _Line(asyncio.Lock(), asyncio.Event())
            line.no_urgent.set()
        return line

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        line = self._line()
        if not is_urgent():
            while True:
                await line.no_urgent.wait()
                await line.lock.acquire()
                if not line.urgent:
                    break
                line.lock.release()  # an urgent call arrived meanwhile: it goes first
                await asyncio.sleep(0)
            try:
                yield
            finally:
                line.lock.release()
            return
        line.urgent += 1
        line.no_urgent.clear()
        try:
            async with line.lock:
                yield
        finally:
            line.urgent -= 1
            if not line.urgent:
                line.no_urgent.set()


@dataclass
class _Line:
    lock: asyncio.Lock
    no_urgent: asyncio.Event
    urgent: int = 0  # urgent acquisitions waiting or in progress


class RateLimiter:
    """At most `rate` acquisitions per sliding `period + margin`; FIFO-fair across tasks."""

    def __init__(
        self,
        rate: float = 20,
        period: float = 1.0,
        margin: float = MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        if rate <= 0 or period <= 0 or margin < 0:
            raise ValueError("rate and period must be positive, margin non-negative")
        self.rate = rate
        self.period = period
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._log: deque[float] = deque()
        self._blocked_until = 0.0
        self._line = WaitLine()
        self.waited = 0.0  # total seconds tasks spent paced (for benchmarks)
        self.penalties = 0  # 429s and exhausted-budget signals seen

    @property
    def capacity(self) -> int:
        """Whole requests allowed per window (a fractional rate rounds down, at least 1)."""
        return max(1, int(self.rate))

    @property
    def span(self) -> float:
        """The sliding window: a little longer than the server's, to absorb jitter."""
        return self.period * self.capacity / self.rate + self.margin

    def _delay(self, now: float) -> float:
        span = self.span
        # Keep a few seconds of history: `observe` looks back past one span.
        while self._log and self._log[0] <= now - span - _HISTORY:
            self._log.popleft()
        delay = max(0.0, self._blocked_until - now)
        if len(self._log) >= self.capacity:
            delay = max(delay, self._log[-self.capacity] + span - now)
        return delay

    async def acquire(self) -> float:
        """Wait for a slot, count this request as sent now, and return that moment.

        Urgent callers (platforms.priority) are served first, in arrival order; ordinary
        ones in arrival order once no urgent caller waits.
        """
        async with self._line.turn():
            return await self._take_slot()

    async def _take_slot(self) -> float:
        while True:
            delay = self._delay(self._clock())
            if delay <= 0:
                break
            self.waited += delay
            await self._sleep(delay)
        sent_at = self._clock()
        self._log.append(sent_at)
        return sent_at

    def block(self, seconds: float | None = None) -> None:
        """Hold every task back until the server's current window has surely ended."""
        self.penalties += 1
        until = self._clock() + (self.period + self.margin if seconds is None else seconds)
        self._blocked_until = max(self._blocked_until, until)

    def observe(self, remaining: int | None, sent_at: float | None = None) -> None:
        """Feed the server's remaining-requests count from the response to a request.

        Zero is normal when our own requests filled the server's window (the log already
        spaces the next one); it only means "wait" when we sent fewer than the limit in any
        window that could be the server's, i.e. another client of the same account is
        spending the budget. `sent_at` (from `acquire`) widens that look-back by the round
        trip, so slow responses are not mistaken for someone else's traffic.
        """
        if remaining is None or remaining > 0:
            return
        now = self._clock()
        rtt = max(0.0, now - sent_at) if sent_at is not None else 0.0
        since = now - self.period - self.margin - rtt
        ours = sum(1 for t in self._log if t > since)
        if ours < self.capacity:
            self.block()

    def observe_headers(self, headers: object, sent_at: float | None = None) -> None:
        """`observe` the remaining count from an httpx.Headers-like mapping, if present."""
        remaining = remaining_from(headers)
        if remaining is not None:
            self.observe(remaining, sent_at)


_registry: dict[tuple[str, str], RateLimiter] = {}


def limiter_for(
    base_url: str, account: str, rate: float = 20, period: float = 1.0, margin: float = MARGIN
) -> RateLimiter:
    """The one limiter for this upstream account; created on first use, then shared."""
    key = (base_url.rstrip("/"), account)
    limiter = _registry.get(key)
    if limiter is None:
        limiter = _registry[key] = RateLimiter(rate=rate, period=period, margin=margin)
    return limiter


def reset_registry() -> None:
    """Forget all limiters (tests start each sandbox afresh)."""
    _registry.clear()
