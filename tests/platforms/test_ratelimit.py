"""The shared limiter, on a fake clock: what it allows, never how long a real run takes."""

from __future__ import annotations

import asyncio

from empause.platforms.ratelimit import RateLimiter, limiter_for, reset_registry


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def fixed_window_counts(times: list[float], period: float = 1.0) -> dict[int, int]:
    counts: dict[int, int] = {}
    for t in times:
        counts[int(t // period)] = counts.get(int(t // period), 0) + 1
    return counts


def make(fake: FakeTime, **kwargs) -> RateLimiter:
    return RateLimiter(clock=fake.clock, sleep=fake.sleep, **kwargs)


async def test_never_more_than_rate_in_any_shifted_fixed_window():
    fake = FakeTime()
    limiter = make(fake, rate=20, margin=0.05)
    sent: list[float] = []

    async def worker() -> None:
        for _ in range(10):
            await limiter.acquire()
            sent.append(fake.now)

    await asyncio.gather(*(worker() for _ in range(20)))
    assert len(sent) == 200
    # Whatever the phase of the server's windows, and with up to 50 ms of latency jitter
    # between two requests, no fixed one-second window sees more than 20.
    for phase in [i / 100 for i in range(100)]:
        for jitter in (0.0, 0.049):
            arrivals = [t - phase + (jitter if i % 2 else 0) for i, t in enumerate(sent)]
            assert max(fixed_window_counts(arrivals).values()) <= 20


async def test_paces_close_to_the_rate():
    fake = FakeTime()
    limiter = make(fake, rate=20, margin=0.05)
    start = fake.now
    for _ in range(201):
        await limiter.acquire()
    # 200 intervals at 20 per 1.05 s: about 10.5 s of fake time, not more.
    assert fake.now - start <= 10 * 1.05 + 1e-6
    assert fake.now - start >= 10 * 1.05 - 1e-6  # and not less: it does pace


async def test_first_burst_is_not_delayed():
    fake = FakeTime()
    limiter = make(fake)
    start = fake.now
    await asyncio.gather(*(limiter.acquire() for _ in range(20)))
    assert fake.now == start


async def test_block_holds_every_task_until_the_window_ends():
    fake = FakeTime()
    limiter = make(fake, margin=0.05)
    limiter.block()
    start = fake.now
    await limiter.acquire()
    assert fake.now - start >= 1.0
    assert limiter.penalties == 1


async def test_zero_remaining_only_blocks_when_someone_else_spent_the_budget():
    fake = FakeTime()
    limiter = make(fake)
    for _ in range(20):
        await limiter.acquire()
    limiter.observe(0)  # our own 20: the log already spaces the next one
    assert limiter.penalties == 0

    other = make(fake)
    await other.acquire()
    other.observe(0)  # we sent 1, the server says none left: another client is busy
    assert other.penalties == 1
    start = fake.now
    await other.acquire()
    assert fake.now - start >= 1.0


def test_headers_feed_the_limiter():
    limiter = RateLimiter()
    limiter.observe_headers({"X-Account-Rate-Limit-Requests-Remaining": "0"})
    assert limiter.penalties == 1
    limiter.observe_headers({"X-Account-Rate-Limit-Requests-Remaining": "12"})
    limiter.observe_headers({})
    assert limiter.penalties == 1


def test_registry_shares_one_limiter_per_account():
    reset_registry()
    a = limiter_for("http://h/", "organization:1")
    assert limiter_for("http://h", "organization:1") is a
    assert limiter_for("http://h", "organization:2") is not a
    reset_registry()
