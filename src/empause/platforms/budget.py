"""One request budget per upstream account, shared by every process (PostgreSQL).

Hootsuite counts an account's requests in fixed one-second windows whose phase we cannot
see, and answers 429 (no Retry-After) to the 21st. Many workers on many machines call the
same account, so the budget lives in the database: one row per account, and one atomic
`INSERT ... ON CONFLICT DO UPDATE ... RETURNING` per request hands out the next slot.

The algorithm is GCRA (the generic cell rate algorithm, "virtual scheduling"): the row keeps
the theoretical arrival time `tat` of the next request. A request arriving at `now` gets the
slot `max(now, tat - tau)` and moves `tat` to `max(tat, now) + T`. Slots then satisfy
`s[j] - s[i] >= (j - i) * T - tau` for any i < j. The server refuses the request that would
be the (L+1)-th of L = 20 in one window of W = 1 s; requests leave at their slot plus a
latency that varies by at most `margin` (J) between two of them, so L + 1 consecutive
requests arrive at least `L*T - tau - J` apart, and no window can hold L + 1 of them when

    L*T - tau >= W + J,  with tau = (B - 1) * T  (B requests may go back to back)
    =>  T = (W + J) / (L - B + 1).

B = 1 (no burst, tau = 0) keeps the most throughput: T = 1.05 / 20 = 52.5 ms, i.e.
19.05 req/s, 0.952 of the limit, whatever the phase of the server's windows, as long as
the jitter stays under J = 50 ms. A burst costs throughput for good (B = 2 gives 18.1 req/s)
and buys only a shorter wait for a handful of simultaneous calls; evenly spaced requests are
also what a limit divided across Hootsuite's cluster nodes tolerates best (rate-limits.yml).
A lone request on an idle account never waits.

Clocks: every time is the database's (`statement_timestamp()`), and each process only ever
receives a *delay* ("your slot is in 0.21 s") that it counts on its own monotonic clock from
the moment it sent the statement, so machines' clocks need not agree; a send is then early
by at most the one-way trip to the database. A busy event loop wakes tasks late, and one
request late against the next twenty is what would squeeze 21 into a window: a task that
wakes more than `LATE` (half the margin) after its slot gives it up and reserves another.
What the margin must absorb is the rest: the variation of (trip to the database + wake-up
lag up to `LATE` + HTTP latency) between two requests one second apart.

A 429, or a remaining count of zero that our own slots do not explain (another client of the
account is spending it), moves the shared `tat` past the server's current window: every
process waits, not only the one that saw it. Slots already handed out (at most one per
process, and those of the next `LOOKAHEAD`) may still go; so a 429 can cost a few more,
which is rare.

Locally, each process keeps the behaviour of `ratelimit.RateLimiter`: its tasks line up in a
`WaitLine` (urgent first, then arrival order) and only the head of the line reserves a slot;
it lets the next task reserve once its own slot is less than `LOOKAHEAD` away, so slots
reserved and not yet used are at most those of the next 0.2 s (about 4), plus one per
process.
If the database cannot be reached, a request is paced by an in-process limiter instead (and
429s, which are obeyed, catch the overlap with other processes).

Cost: one statement per request on a hot row (HOT update, UNLOGGED table, asynchronous
commit), 0.09 ms of the worker's CPU. benchmarks/shared_budget.py measured one PostgreSQL
on 2 shared cores at 7,000-8,000 reservations/s from 4 processes over 20 accounts, 18-20
times the 400/s that 20 accounts at 20 req/s need.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from empause.platforms.ratelimit import MARGIN, Limiter, RateLimiter, WaitLine, remaining_from

log = logging.getLogger(__name__)

DEFAULT_BURST = 1  # requests that may leave back to back (see the module docstring)
POOL_SIZE = 2  # database connections per process for reservations (each takes ~0.1 ms)
LOOKAHEAD = 0.2  # seconds before its slot a task lets the next one reserve (SharedRateLimiter)
LATE = MARGIN / 2  # a slot missed by more is given up for a new one (half the jitter allowance)
WARN_EVERY = 60.0  # seconds between two warnings that one account's budget is unavailable
LATE_RETRIES = 4  # new slots tried before sending late anyway (the 429 path then takes over)


@dataclass(frozen=True, slots=True)
class Pacing:
    """The server's limit (`rate` per `period`) and how we keep under it."""

    rate: float = 20
    period: float = 1.0
    margin: float = MARGIN
    burst: int = DEFAULT_BURST

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.period <= 0 or self.margin < 0:
            raise ValueError("rate and period must be positive, margin non-negative")
        if not 1 <= self.burst <= self.capacity:
            raise ValueError(f"burst must be between 1 and {self.capacity}")

    @property
    def capacity(self) -> int:
        """Whole requests allowed per window (a fractional rate rounds down, at least 1)."""
        return max(1, int(self.rate))

    @property
    def interval(self) -> float:
        """T: the spacing of slots, so that capacity + 1 of them span the window + margin."""
        window = self.period * self.capacity / self.rate
        return (window + self.margin) / (self.capacity - self.burst + 1)

    @property
    def tolerance(self) -> float:
        """tau: how far ahead of its theoretical time a request may go."""
        return (self.burst - 1) * self.interval

    @property
    def hold(self) -> float:
        """How long a refusal holds everyone back: past the server's current window."""
        return self.period + self.margin


class BudgetStore(Protocol):
    """Where the slots of every account are handed out. `now` (seconds) is for tests with a
    fake clock; by default the store's own clock is used."""

    async def reserve(self, account: str, pacing: Pacing, now: float | None = None) -> float:
        """Take the account's next slot; return how many seconds from now it is (>= 0)."""
        ...

    async def hold(
        self, account: str, pacing: Pacing, seconds: float, now: float | None = None
    ) -> None:
        """No slot of the account starts before `now + seconds`."""
        ...

    async def exhausted(
        self, account: str, pacing: Pacing, lookback: float, now: float | None = None
    ) -> bool:
        """The server said none are left: hold the account (and return True) unless our own
        slots of the last `lookback` seconds explain it."""
        ...


class MemoryBudgets:
    """The same algorithm in one process's memory: the reference for the SQL, and a store for
    tests with a fake clock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._recent: dict[str, deque[float]] = {}
        self.penalties: dict[str, int] = {}

    async def reserve(self, account: str, pacing: Pacing, now: float | None = None) -> float:
        now = self._clock() if now is None else now
        tat = self._tat.get(account)
        slot = now if tat is None else max(now, tat - pacing.tolerance)
        self._tat[account] = (now if tat is None else max(tat, now)) + pacing.interval
        recent = self._recent.setdefault(account, deque(maxlen=pacing.capacity))
        recent.append(slot)
        return slot - now

    async def hold(
        self, account: str, pacing: Pacing, seconds: float, now: float | None = None
    ) -> None:
        now = self._clock() if now is None else now
        until = now + seconds + pacing.tolerance
        self._tat[account] = max(self._tat.get(account, until), until)
        self.penalties[account] = self.penalties.get(account, 0) + 1

    async def exhausted(
        self, account: str, pacing: Pacing, lookback: float, now: float | None = None
    ) -> bool:
        now = self._clock() if now is None else now
        ours = sum(1 for s in self._recent.get(account, ()) if s > now - lookback)
        if ours >= pacing.capacity:
            return False
        await self.hold(account, pacing, pacing.hold, now)
        return True


# Positional parameters: $1 account, $2 now (NULL: the database's clock), then per statement.
_NOW = (
    "WITH t AS (SELECT COALESCE(CAST($2 AS float8),"
    " CAST(extract(epoch FROM statement_timestamp()) AS float8)) AS now) "
)
# $3 interval T, $4 tolerance tau, $5 capacity.
# Slot = max(now, tat - tau); tat := max(tat, now) + T; keep the last `capacity` slots.
# RETURNING sees the new tat, and max(now, old tat - tau) = max(now, new tat - T - tau).
_RESERVE = (
    _NOW + "INSERT INTO rate_budgets AS b (account, tat, recent, penalties)"
    " SELECT CAST($1 AS varchar), t.now + CAST($3 AS float8), ARRAY[t.now], 0 FROM t"
    " ON CONFLICT (account) DO UPDATE SET"
    " tat = GREATEST(b.tat, (SELECT now FROM t)) + CAST($3 AS float8),"
    " recent = (b.recent || GREATEST((SELECT now FROM t), b.tat - CAST($4 AS float8)))"
    "[GREATEST(1, cardinality(b.recent) + 2 - CAST($5 AS int)):]"
    " RETURNING GREATEST(0, b.tat - CAST($3 AS float8) - CAST($4 AS float8)"
    " - (SELECT now FROM t))"
)
# $3 seconds (+ tau) from now before which no slot starts.
_HOLD = (
    _NOW + "INSERT INTO rate_budgets AS b (account, tat, recent, penalties)"
    " SELECT CAST($1 AS varchar), t.now + CAST($3 AS float8), CAST(ARRAY[] AS float8[]), 1"
    " FROM t"
    " ON CONFLICT (account) DO UPDATE SET"
    " tat = GREATEST(b.tat, (SELECT now FROM t) + CAST($3 AS float8)),"
    " penalties = b.penalties + 1"
    " RETURNING b.tat"
)
# The same hold, only when fewer than `capacity` ($5) of our slots fall in the look-back ($4)
# (slots reserved but not sent yet count too: they err towards trusting our own pacing).
_EXHAUSTED = (
    _NOW + "INSERT INTO rate_budgets AS b (account, tat, recent, penalties)"
    " SELECT CAST($1 AS varchar), t.now + CAST($3 AS float8), CAST(ARRAY[] AS float8[]), 1"
    " FROM t"
    " ON CONFLICT (account) DO UPDATE SET"
    " tat = GREATEST(b.tat, (SELECT now FROM t) + CAST($3 AS float8)),"
    " penalties = b.penalties + 1"
    " WHERE (SELECT count(*) FROM unnest(b.recent) AS s(at)"
    "  WHERE s.at > (SELECT now FROM t) - CAST($4 AS float8)) < CAST($5 AS int)"
    " RETURNING b.tat"
)


class PostgresBudgets:
    """The store in PostgreSQL's `rate_budgets` table: one statement, one round trip each.

    It holds a few connections of the engine's pool and speaks to the asyncpg driver under
    them directly (autocommit, statements prepared once per connection): a pool check-out
    and SQLAlchemy's statement handling cost 0.45 ms of CPU per reservation, the driver
    0.07 ms, and a worker makes one reservation per request.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Callable[[], float] | None = None,
        connections: int = POOL_SIZE,
    ) -> None:
        """`clock` replaces the database's clock (tests with a fake one)."""
        self._engine = engine
        self._clock = clock
        self._connections = connections
        self._idle: list[tuple[AsyncConnection, Any]] = []
        self._turns: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _value(self, statement: str, account: str, now: float | None, *args: Any) -> Any:
        if now is None and self._clock is not None:
            now = self._clock()
        loop = asyncio.get_running_loop()
        if self._turns is None or self._loop is not loop:
            self._turns, self._loop, self._idle = asyncio.Semaphore(self._connections), loop, []
        async with self._turns:
            if self._idle:
                conn, driver = self._idle.pop()
            else:
                conn = await self._engine.connect()
                driver = (await conn.get_raw_connection()).driver_connection
            try:
                value = await driver.fetchval(statement, account, now, *args)
            except asyncpg.PostgresError:
                self._idle.append((conn, driver))  # the server refused; the link is fine
                raise
            except BaseException:  # a broken or interrupted link: never reuse it
                with contextlib.suppress(Exception):
                    await conn.invalidate()
                    await conn.close()
                raise
            self._idle.append((conn, driver))
            return value

    async def reserve(self, account: str, pacing: Pacing, now: float | None = None) -> float:
        value = await self._value(
            _RESERVE, account, now, pacing.interval, pacing.tolerance, pacing.capacity
        )
        return float(value)

    async def hold(
        self, account: str, pacing: Pacing, seconds: float, now: float | None = None
    ) -> None:
        await self._value(_HOLD, account, now, seconds + pacing.tolerance)

    async def exhausted(
        self, account: str, pacing: Pacing, lookback: float, now: float | None = None
    ) -> bool:
        until = pacing.hold + pacing.tolerance
        value = await self._value(_EXHAUSTED, account, now, until, lookback, pacing.capacity)
        return value is not None

    async def aclose(self) -> None:
        """Give the held connections back to the engine's pool."""
        idle, self._idle = self._idle, []
        for conn, _driver in idle:
            await conn.close()


# asyncpg's own errors (PostgresError, InterfaceError) come up from the driver unwrapped.
_STORE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class SharedRateLimiter:
    """A `Limiter` for one account whose slots come from a `BudgetStore` shared by processes.

    This process's tasks line up in a `WaitLine` (urgent first, FIFO); the head reserves the
    next shared slot and sleeps until it.
    """

    def __init__(
        self,
        store: BudgetStore,
        account: str,
        pacing: Pacing | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.account = account
        self.pacing = pacing or Pacing()
        self._clock = clock
        self._sleep = sleep
        self._line = WaitLine()
        self._blocked_until = 0.0  # on our clock: a refusal seen here holds us at once
        self._fallback = RateLimiter(
            self.pacing.rate, self.pacing.period, self.pacing.margin, clock=clock, sleep=sleep
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.waited = 0.0  # total seconds tasks spent paced (for benchmarks)
        self.penalties = 0  # 429s and exhausted-budget signals seen by this process
        self.reservations = 0
        self.store_failures = 0
        self.late = 0  # slots given up because this process woke too late for them
        self._warned_at = -WARN_EVERY

    async def acquire(self) -> float:
        """Wait for this process's turn, then for the account's next shared slot; return the
        moment (our monotonic clock) the request may be sent.

        The turn is held until the slot is `LOOKAHEAD` away, then handed to the next task so
        it can reserve the following slot meanwhile: a busy event loop's lag then delays
        reservations without losing slots, and an urgent call never waits behind more than
        the slots of the next `LOOKAHEAD` seconds.
        """
        async with self._line.turn():
            delay = self._blocked_until - self._clock()
            if delay > 0:
                self.waited += delay
                await self._sleep(delay)
            slot = await self._reserve()
            if slot is None:
                return await self._fallback.acquire()
            if slot - self._clock() > LOOKAHEAD:
                await self._sleep(slot - LOOKAHEAD - self._clock())
        for _ in range(LATE_RETRIES):
            delay = slot - self._clock()
            if delay > 0:
                await self._sleep(delay)
            late = self._clock() - slot
            if late <= LATE:
                break
            # Woken too late (a busy event loop): sent now, this request could land in one
            # window with the slots after it. Take a new slot instead.
            self.late += 1
            slot = await self._reserve()
            if slot is None:
                return await self._fallback.acquire()
        return self._clock()

    async def _reserve(self) -> float | None:
        """The next shared slot on our clock, or None when the store cannot be reached."""
        asked = self._clock()
        try:
            delay = await self.store.reserve(self.account, self.pacing)
        except _STORE_ERRORS as exc:
            self.store_failures += 1
            self._warn("rate budget of %s unavailable, pacing locally: %r", exc)
            return None
        self.reservations += 1
        self.waited += delay
        # From when we asked: the database read its clock a one-way trip later, so this is
        # that trip early at most, while a reply that a busy event loop took long to notice
        # shows up as lateness (and the slot is given up) rather than silently shifting it.
        return asked + delay

    def block(self, seconds: float | None = None) -> None:
        """The server refused: hold this process at once and every process via the store."""
        self.penalties += 1
        hold = self.pacing.hold if seconds is None else seconds
        self._blocked_until = max(self._blocked_until, self._clock() + hold)
        self._spawn(self.store.hold(self.account, self.pacing, hold))

    def observe(self, remaining: int | None, sent_at: float | None = None) -> None:
        """A remaining count of zero holds everyone if our own slots do not explain it (as in
        `RateLimiter.observe`, but counting every process's slots)."""
        if remaining is None or remaining > 0:
            return
        rtt = max(0.0, self._clock() - sent_at) if sent_at is not None else 0.0
        self._spawn(self._check_exhausted(self.pacing.hold + rtt))

    def observe_headers(self, headers: object, sent_at: float | None = None) -> None:
        self.observe(remaining_from(headers), sent_at)

    async def _check_exhausted(self, lookback: float) -> None:
        if await self.store.exhausted(self.account, self.pacing, lookback):
            self.penalties += 1

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        async def guarded() -> None:
            try:
                await work
            except _STORE_ERRORS as exc:
                self.store_failures += 1
                self._warn("rate budget of %s not updated: %r", exc)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _warn(self, message: str, exc: BaseException) -> None:
        """Log a store failure, at most once per WARN_EVERY seconds (it may last)."""
        now = self._clock()
        if now >= self._warned_at + WARN_EVERY:
            self._warned_at = now
            log.warning(message, self.account, exc)

    async def settle(self) -> None:
        """Wait until every penalty this process reported has reached the store."""
        while self._tasks:
            await asyncio.gather(*self._tasks)


def is_shared_database(database_url: str) -> bool:
    """Whether processes share budgets through this database (PostgreSQL) or not (SQLite)."""
    return make_url(database_url).get_backend_name() == "postgresql"


class RateBudgets:
    """The pacing of every upstream account this process calls; the composition root builds
    one per process and gives each platform adapter `budget_for(...)` as its limiter.

    On PostgreSQL the budgets are shared by every process using the database; otherwise
    (SQLite, the demo) each process paces itself with a `RateLimiter`.
    """

    def __init__(self, database_url: str | None = None, *, pool_size: int = POOL_SIZE) -> None:
        self._limiters: dict[str, Limiter] = {}
        self._engine: AsyncEngine | None = None
        self.store: BudgetStore | None = None
        if database_url is not None and is_shared_database(database_url):
            self._engine = create_async_engine(
                database_url,
                pool_size=pool_size,
                max_overflow=pool_size,
                # A budget lost in a crash is harmless: never wait for the WAL to be flushed.
                connect_args={"server_settings": {"synchronous_commit": "off"}},
            )
            self.store = PostgresBudgets(self._engine, connections=pool_size)

    def budget_for(
        self,
        base_url: str,
        account: str,
        rate: float = 20,
        period: float = 1.0,
        margin: float = MARGIN,
    ) -> Limiter:
        """The one limiter of this upstream account (e.g. "organization:832420") here."""
        key = f"{base_url.rstrip('/')} {account}"
        limiter = self._limiters.get(key)
        if limiter is None:
            if self.store is None:
                limiter = RateLimiter(rate=rate, period=period, margin=margin)
            else:
                pacing = Pacing(rate=rate, period=period, margin=margin)
                limiter = SharedRateLimiter(self.store, key, pacing)
            self._limiters[key] = limiter
        return limiter

    async def aclose(self) -> None:
        for limiter in self._limiters.values():
            if isinstance(limiter, SharedRateLimiter):
                await limiter.settle()
        if isinstance(self.store, PostgresBudgets):
            await self.store.aclose()
        if self._engine is not None:
            await self._engine.dispose()
