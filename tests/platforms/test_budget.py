"""The shared rate budget's algorithm on a fake clock, in memory and in real PostgreSQL.

Processes are simulated as events on one fake timeline: each reserves a slot, sends at it,
and reserves again; the store (the SQL itself, on PostgreSQL) decides every slot.
"""

from __future__ import annotations

import asyncio
import heapq
import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import OperationalError

from empause.platforms.budget import (
    LOOKAHEAD,
    BudgetStore,
    MemoryBudgets,
    Pacing,
    PostgresBudgets,
    RateBudgets,
    SharedRateLimiter,
)
from empause.platforms.priority import urgent
from empause.platforms.ratelimit import RateLimiter
from empause.store.db import make_engine
from tests.fixtures.database import POSTGRES_URL
from tests.platforms.test_ratelimit import FakeTime, fixed_window_counts

LIMIT = 20
PACING = Pacing(rate=LIMIT, period=1.0, margin=0.05)
STORES = ["memory", "postgres"]


@pytest.fixture(params=STORES)
def budget_database(request: pytest.FixtureRequest) -> str | None:
    """None for the in-memory store, else the URL of a migrated PostgreSQL database."""
    if request.param == "memory":
        return None
    if not POSTGRES_URL:
        pytest.skip("EMPAUSE_TEST_POSTGRES_URL is not set")
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
async def make_store(budget_database: str | None) -> AsyncIterator:
    """A factory of stores on a given clock: in memory, or the rate_budgets table."""
    if budget_database is None:
        yield lambda clock: MemoryBudgets(clock)
        return
    engine = make_engine(budget_database)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("TRUNCATE rate_budgets")
    made: list[PostgresBudgets] = []

    def make(clock):
        made.append(PostgresBudgets(engine, clock))
        return made[-1]

    yield make
    for store in made:
        await store.aclose()
    await engine.dispose()


async def simulate(
    store: BudgetStore,
    processes: int,
    requests_each: int,
    *,
    pacing: Pacing = PACING,
    idle: float = 0.0,
    seed: int = 1,
    account: str = "organization:1",
) -> list[float]:
    """Each process reserves, sends at its slot, then reserves again (after `idle` seconds
    at most, at random). Returns the send times, in the order slots were handed out."""
    rng = random.Random(seed)
    ready = [(1000.0 + rng.uniform(0, 0.01), p) for p in range(processes)]
    heapq.heapify(ready)
    left = [requests_each] * processes
    sends: list[float] = []
    while ready:
        now, p = heapq.heappop(ready)
        slot = now + await store.reserve(account, pacing, now=now)
        sends.append(slot)
        left[p] -= 1
        if left[p]:
            heapq.heappush(ready, (slot + 0.001 + rng.uniform(0, idle), p))
    return sends


def assert_under_the_limit(sends: list[float], pacing: Pacing = PACING) -> None:
    """Any capacity + 1 requests span the window plus the margin, so whatever the phase of
    the server's windows and a jitter below the margin, none sees more than the limit."""
    times = sorted(sends)
    cap = pacing.capacity
    spans = [times[i + cap] - times[i] for i in range(len(times) - cap)]
    assert min(spans) >= pacing.period + pacing.margin - 1e-6
    for phase in [i / 50 for i in range(50)]:
        for jitter in (0.0, pacing.margin * 0.98):
            arrivals = [t - phase + (jitter if i % 2 else 0) for i, t in enumerate(times)]
            assert max(fixed_window_counts(arrivals, pacing.period).values()) <= cap


def test_pacing_spaces_slots_so_that_the_limit_plus_one_spans_the_window_and_margin():
    assert PACING.interval == pytest.approx(1.05 / 20)
    assert PACING.tolerance == 0
    assert 1 / PACING.interval >= 0.9 * LIMIT
    burst = Pacing(rate=20, burst=2)
    assert burst.interval == pytest.approx(1.05 / 19) and burst.tolerance == burst.interval
    with pytest.raises(ValueError):
        Pacing(rate=20, burst=21)
    with pytest.raises(ValueError):
        Pacing(rate=0)


async def test_processes_sharing_an_account_stay_under_its_limit(make_store):
    fake = FakeTime()
    sends = await simulate(make_store(fake.clock), processes=4, requests_each=60)
    assert len(sends) == 240
    assert_under_the_limit(sends)


async def test_intermittent_processes_stay_under_the_limit_with_a_burst(make_store):
    fake = FakeTime()
    pacing = Pacing(rate=LIMIT, burst=5)
    sends = await simulate(
        make_store(fake.clock), processes=6, requests_each=40, pacing=pacing, idle=0.4, seed=3
    )
    assert_under_the_limit(sends, pacing)


async def test_saturated_account_gets_close_to_the_limit(make_store):
    fake = FakeTime()
    sends = await simulate(make_store(fake.clock), processes=4, requests_each=100)
    rate = (len(sends) - 1) / (max(sends) - min(sends))
    assert rate == pytest.approx(LIMIT / 1.05, rel=1e-3)  # 19.05 req/s: 0.95 of the limit


async def test_accounts_are_independent(make_store):
    fake = FakeTime()
    store = make_store(fake.clock)
    a = await simulate(store, processes=2, requests_each=20, account="organization:1")
    b = await simulate(store, processes=2, requests_each=20, account="organization:2")
    assert a == b  # the second account is not slowed by the first one's slots


async def test_the_sql_is_the_reference_algorithm(make_store):
    """PostgreSQL hands out exactly the slots the in-memory reference does."""
    fake = FakeTime()
    store, reference = make_store(fake.clock), MemoryBudgets(fake.clock)
    rng = random.Random(5)
    now = 1000.0
    for _ in range(120):
        now += rng.choice([0.0, 0.0, 0.01, 0.05, 0.3, 1.2])
        pacing = Pacing(rate=LIMIT, burst=rng.choice([1, 3]))
        op = rng.random()
        if op < 0.05:
            await store.hold("acct", pacing, 1.05, now=now)
            await reference.hold("acct", pacing, 1.05, now=now)
        elif op < 0.15:
            lookback = rng.uniform(0.5, 1.5)
            assert await store.exhausted("acct", pacing, lookback, now=now) == (
                await reference.exhausted("acct", pacing, lookback, now=now)
            )
        else:
            got = await store.reserve("acct", pacing, now=now)
            assert got == pytest.approx(await reference.reserve("acct", pacing, now=now))


async def test_slots_queued_behind_a_hold_count_as_ours_when_they_are_sent(make_store):
    fake = FakeTime()
    store = make_store(fake.clock)
    await store.hold("acct", PACING, PACING.hold, now=1000.0)
    slots = [1000.0 + await store.reserve("acct", PACING, now=1000.0) for _ in range(LIMIT)]
    assert min(slots) >= 1000.0 + PACING.hold - 1e-9
    # Just after the last of them was sent, a zero is explained by our own 20.
    assert not await store.exhausted("acct", PACING, 1.1, now=max(slots) + 0.01)
    assert await store.exhausted("acct", PACING, 1.1, now=max(slots) + 5)


def limiter(store: BudgetStore, fake: FakeTime) -> SharedRateLimiter:
    """One process's limiter of the account, on the fake clock."""
    return SharedRateLimiter(store, "organization:1", PACING, clock=fake.clock, sleep=fake.sleep)


async def test_lone_request_on_an_idle_account_does_not_wait(make_store):
    fake = FakeTime()
    one = limiter(make_store(fake.clock), fake)
    start = fake.now
    await one.acquire()
    fake.now += 5
    await one.acquire()
    assert fake.now == start + 5


async def test_a_429_seen_by_one_process_holds_every_process(make_store):
    fake = FakeTime()
    store = make_store(fake.clock)
    first, second = limiter(store, fake), limiter(store, fake)
    await first.acquire()
    await second.acquire()
    first.block()  # the server refused first's request
    await first.settle()
    start = fake.now
    await second.acquire()
    assert fake.now - start >= PACING.hold - 1e-9
    assert first.penalties == 1 and second.penalties == 0


async def test_zero_remaining_holds_everyone_only_when_our_slots_do_not_explain_it(make_store):
    fake = FakeTime()
    store = make_store(fake.clock)
    first, second = limiter(store, fake), limiter(store, fake)
    for _ in range(LIMIT // 2):
        await first.acquire()
        await second.acquire()
    sent_at = fake.now
    first.observe_headers({"X-Account-Rate-Limit-Requests-Remaining": "0"}, sent_at)
    await first.settle()
    assert first.penalties == 0  # our 20 slots in the window: the pacing already spaces

    fake.now += 10
    sent_at = await first.acquire()  # one request of ours, yet the server says none left
    first.observe_headers({"X-Account-Rate-Limit-Requests-Remaining": "0"}, sent_at)
    await first.settle()
    assert first.penalties == 1
    start = fake.now
    await second.acquire()  # the other process waits too
    assert fake.now - start >= PACING.hold - 1e-9


class VirtualTime:
    """A fake clock for concurrent sleepers: time jumps to the next wake-up only once every
    task is waiting (all work here is in memory, so a few loop turns settle it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), self._seq, future))
        await future

    async def run(self, tasks: list[asyncio.Task]) -> None:
        while not all(t.done() for t in tasks):
            for _ in range(50):
                await asyncio.sleep(0)
            if self._sleepers:
                when, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, when)
                future.set_result(None)
        await asyncio.gather(*tasks)


async def test_urgent_requests_go_first_within_a_process():
    time = VirtualTime()
    one = SharedRateLimiter(
        MemoryBudgets(time.clock), "organization:1", PACING, clock=time.clock, sleep=time.sleep
    )
    order: list[str] = []

    async def call(kind: str) -> None:
        await one.acquire()
        order.append(kind)
        if order.count("ordinary") == 3:
            urgents.extend(asyncio.create_task(urgent_call()) for _ in range(5))

    async def urgent_call() -> None:
        with urgent():
            await call("urgent")

    urgents: list[asyncio.Task] = []
    ordinary = [asyncio.create_task(call("ordinary")) for _ in range(30)]
    await time.run(ordinary)
    await time.run(urgents)
    first_urgent = order.index("urgent")
    assert order[first_urgent : first_urgent + 5] == ["urgent"] * 5
    # Only the slots already reserved went before them: those of the next LOOKAHEAD seconds
    # and the one the head of the line holds.
    assert first_urgent <= 3 + LOOKAHEAD / PACING.interval + 1
    assert len(order) == 35


class BrokenStore(MemoryBudgets):
    async def reserve(self, account: str, pacing: Pacing, now: float | None = None) -> float:
        raise OperationalError("SELECT", {}, ConnectionRefusedError())


async def test_without_the_database_a_process_paces_itself():
    fake = FakeTime()
    one = limiter(BrokenStore(fake.clock), fake)
    sends = [await one.acquire() for _ in range(41)]
    assert one.store_failures == 41
    assert sends[-1] - sends[0] >= 2 * (1.0 + PACING.margin) - 1e-9  # the local limiter's pace


async def test_budgets_are_shared_only_through_postgresql(tmp_path):
    local = RateBudgets(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    one = local.budget_for("http://h/", "organization:1")
    assert isinstance(one, RateLimiter)
    assert local.budget_for("http://h", "organization:1") is one
    assert local.budget_for("http://h", "organization:2") is not one
    await local.aclose()
    shared = RateBudgets("postgresql+asyncpg://postgres@127.0.0.1:5432/unused")
    two = shared.budget_for("http://h/", "organization:1", rate=10)
    assert isinstance(two, SharedRateLimiter) and two.pacing.rate == 10
    assert shared.budget_for("http://h", "organization:1") is two
    await shared.aclose()
