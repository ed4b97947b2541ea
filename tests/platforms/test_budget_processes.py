"""Worker processes (real OS processes) sharing one Hootsuite account's budget through real
PostgreSQL, against the sandbox with its limit on (20 per fixed one-second window, 429 past
it): the sandbox is the judge of every window."""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import time
from collections.abc import Iterator

import httpx
import pytest
from benchmarks.budget_load import Workers
from sqlalchemy import text

from empause.platforms.budget import LOOKAHEAD, Pacing, RateBudgets, SharedRateLimiter
from empause.platforms.hootsuite.adapter import HootsuitePlatform, OrganizationToken
from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, ORG_ID
from empause.store.db import make_engine
from tests.fixtures.database import POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="EMPAUSE_TEST_POSTGRES_URL is not set")

LIMIT = 20
PROCESSES = 3
SECONDS = 4.0


@pytest.fixture
def budget_database(postgres_database: str) -> Iterator[str]:
    async def empty() -> None:
        engine = make_engine(postgres_database)
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE rate_budgets"))
        await engine.dispose()

    asyncio.run(empty())
    yield postgres_database


def plan(sandbox, database_url: str, **extra: object) -> dict:
    return {
        "sandbox_url": sandbox.base_url,
        "database_url": database_url,
        "organizations": [ORG_ID],
        "seconds": SECONDS,
        "tasks": 3,
        "rate": LIMIT,
        **extra,
    }


def merged(reports: list[dict], key: str) -> list:
    return [x for r in reports for x in r[ORG_ID][key]]


def test_processes_sharing_an_account_stay_under_its_limit_and_urgent_goes_first(
    sandbox, budget_database
):
    sandbox.control.faults(rate_limit=LIMIT)
    # A backlog of ordinary calls in every process, and one urgent caller in each.
    workers = Workers(plan(sandbox, budget_database, tasks=8, urgent_tasks=1), PROCESSES)
    try:
        start_at = workers.start()
        reports = workers.reports()
    finally:
        workers.stop()
    rate_limited = sum(r[ORG_ID]["rate_limited"] for r in reports)
    assert rate_limited <= 1  # the sandbox refused (next to) nothing: no window saw 21
    assert all(r[ORG_ID]["store_failures"] == 0 for r in reports)
    sends = sorted(merged(reports, "sends"))
    steady = [t for t in sends if start_at + 1 <= t < start_at + SECONDS]
    assert len(steady) / (SECONDS - 1) >= 0.75 * LIMIT  # the processes together use the budget
    assert all(len(r[ORG_ID]["sends"]) >= 10 for r in reports)  # every process had its share
    latency = {
        kind: statistics.median(x for r in reports for x in r[ORG_ID]["latency"][kind])
        for kind in ("urgent", "ordinary")
    }
    assert latency["urgent"] < latency["ordinary"] / 2  # urgent calls skip the local line


async def _foreign_burst(base_url: str, requests: int) -> None:
    """Another client of the same account spends its whole window at once, unpaced."""
    async with httpx.AsyncClient(timeout=10) as http:
        token = await OrganizationToken(http, base_url, CLIENT_ID, CLIENT_SECRET, ORG_ID)()
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{base_url}/v1/organizations/{ORG_ID}/teams"
        await asyncio.gather(*(http.get(url, headers=headers) for _ in range(requests)))


def test_a_refusal_seen_by_one_process_holds_them_all(sandbox, budget_database):
    """This test's process sees a 429 (as a worker would) and reports it to the budget: the
    worker processes, which saw nothing, all pause for the server's window."""
    sandbox.control.faults(rate_limit=LIMIT)
    workers = Workers(plan(sandbox, budget_database), PROCESSES)

    async def refused() -> None:
        budgets = RateBudgets(budget_database)
        budgets.budget_for(sandbox.base_url, f"organization:{ORG_ID}", LIMIT).block()
        await budgets.aclose()  # the hold has reached the database

    try:
        start_at = workers.start()
        held_at = start_at + 1.5
        time.sleep(max(0.0, held_at - time.time()))
        asyncio.run(refused())
        reports = workers.reports()
    finally:
        workers.stop()
    assert sum(r[ORG_ID]["rate_limited"] for r in reports) <= 1
    assert sum(r[ORG_ID]["penalties"] for r in reports) == 0  # none of them saw it
    sends = sorted(merged(reports, "sends"))
    before = [t for t in sends if t < held_at]
    after = [t for t in sends if t >= held_at]
    assert len(before) >= 10 and len(after) >= 10
    # Nothing new went out for about a window: slots already handed out (the next
    # LOOKAHEAD seconds', and each process's next one) at most, then the pause.
    pacing = Pacing(rate=LIMIT)
    pause = max(b - a for a, b in itertools.pairwise([held_at, *after]))
    assert pause >= pacing.hold - LOOKAHEAD - PROCESSES * pacing.interval - 0.1


def test_a_foreign_client_spending_the_window_costs_few_429s(sandbox, budget_database):
    sandbox.control.faults(rate_limit=LIMIT)
    workers = Workers(plan(sandbox, budget_database), PROCESSES)
    try:
        start_at = workers.start()
        # Let the workers settle into the paced rhythm, then spend a window under them.
        burst_at = start_at + 1.5
        time.sleep(max(0.0, burst_at - time.time()))
        asyncio.run(_foreign_burst(sandbox.base_url, 2 * LIMIT))
        reports = workers.reports()
    finally:
        workers.stop()
    penalties = sum(r[ORG_ID]["penalties"] for r in reports)
    rate_limited = sum(r[ORG_ID]["rate_limited"] for r in reports)
    assert penalties >= 1  # someone saw the refusal (a 429, or a zero we had not caused)
    # Then nobody kept knocking: only slots handed out before the hold went (one per process
    # and those of the next LOOKAHEAD seconds), and the request that saw it.
    assert rate_limited <= PROCESSES + math.ceil(LOOKAHEAD / Pacing(rate=LIMIT).interval) + 2
    assert len([t for r in reports for t in r[ORG_ID]["sends"] if t > burst_at + 1.5]) >= 10


async def test_the_hootsuite_adapter_takes_the_shared_budget(sandbox, budget_database):
    budgets = RateBudgets(budget_database)
    limiter = budgets.budget_for(sandbox.base_url, f"organization:{ORG_ID}", LIMIT)
    hootsuite = HootsuitePlatform(
        sandbox.base_url, CLIENT_ID, CLIENT_SECRET, ORG_ID, timeout=3.0, limiter=limiter
    )
    try:
        assert hootsuite.client.limiter is limiter
        teams = await asyncio.gather(
            *(hootsuite.client.organization_teams(ORG_ID) for _ in range(LIMIT + 5))
        )
        assert all(teams)
        assert isinstance(limiter, SharedRateLimiter)
        assert limiter.reservations - limiter.late == LIMIT + 5  # one slot per request sent
        assert hootsuite.client.rate_limited == 0
    finally:
        await hootsuite.aclose()
        await budgets.aclose()
