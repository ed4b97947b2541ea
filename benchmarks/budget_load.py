"""One worker process of the shared-budget load (benchmarks/shared_budget.py and
tests/platforms/test_budget_processes.py): calls the Hootsuite sandbox for some
organizations, each paced by `RateBudgets.budget_for` (shared through the database), as fast
as the budgets allow, and prints one JSON line with what happened.

Run: python -m benchmarks.budget_load '<json plan>' (see `Plan`). Without a start time in
the plan it prints "ready" once set up and reads the wall-clock start time from stdin, so a
driver can start every process together.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from empause.platforms.budget import Pacing, RateBudgets, SharedRateLimiter
from empause.platforms.hootsuite.adapter import OrganizationToken
from empause.platforms.hootsuite.client import HootsuiteClient
from empause.platforms.priority import urgent
from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET


@dataclass
class Plan:
    sandbox_url: str
    database_url: str
    organizations: list[str]
    seconds: float
    start_at: float | None = None  # wall-clock start; None: read from stdin once ready
    tasks: int = 4  # ordinary callers per organization
    urgent_tasks: int = 0  # callers per organization marked urgent (platforms.priority)
    rate: float = 20
    reserve_only: bool = False  # no HTTP: only reservations, back to back (database capacity)
    no_http: bool = False  # acquire slots (reserve, then sleep until them) without calling


@dataclass
class Account:
    ok: int = 0
    rate_limited: int = 0
    sends: list[float] = field(default_factory=list)  # wall-clock time of every send
    latency: dict[str, list[float]] = field(default_factory=lambda: {"ordinary": [], "urgent": []})


def synchronised_start(plan: Plan) -> float:
    """The plan's start time, or the one the driver sends once every process is ready."""
    if plan.start_at is not None:
        return plan.start_at
    print("ready", flush=True)
    return float(sys.stdin.readline())


class Recording:
    """A `Limiter` that notes the wall-clock moment of every send it lets through."""

    def __init__(self, inner: SharedRateLimiter, sends: list[float]) -> None:
        self.inner = inner
        self.sends = sends

    @property
    def penalties(self) -> int:
        return self.inner.penalties

    async def acquire(self) -> float:
        sent_at = await self.inner.acquire()
        self.sends.append(time.time())
        return sent_at

    def block(self, seconds: float | None = None) -> None:
        self.inner.block(seconds)

    def observe_headers(self, headers: object, sent_at: float | None = None) -> None:
        self.inner.observe_headers(headers, sent_at)


async def run(plan: Plan) -> dict:
    budgets = RateBudgets(plan.database_url)
    http = httpx.AsyncClient(
        timeout=10, limits=httpx.Limits(max_connections=200, max_keepalive_connections=200)
    )
    accounts: dict[str, Account] = {}
    clients: dict[str, HootsuiteClient] = {}
    limiters: dict[str, SharedRateLimiter] = {}
    for org in plan.organizations:
        token = OrganizationToken(http, plan.sandbox_url, CLIENT_ID, CLIENT_SECRET, org)
        await token()  # before the clock starts: token requests are not rate limited
        limiter = budgets.budget_for(plan.sandbox_url, f"organization:{org}", plan.rate)
        assert isinstance(limiter, SharedRateLimiter), "the load needs a PostgreSQL database"
        accounts[org] = Account()
        limiters[org] = limiter
        clients[org] = HootsuiteClient(
            plan.sandbox_url,
            token,
            http=http,
            limiter=Recording(limiter, accounts[org].sends),
            max_rate_limited=1000,
        )
    start_at = synchronised_start(plan)
    end = start_at + plan.seconds

    async def caller(org: str, kind: str) -> None:
        client, account = clients[org], accounts[org]
        while time.time() < end:
            started = time.perf_counter()
            if plan.no_http:
                await client.limiter.acquire()
            else:
                await client.organization_teams(org)
            account.latency[kind].append(time.perf_counter() - started)
            account.ok += 1

    async def urgent_caller(org: str) -> None:
        with urgent():
            await caller(org, "urgent")

    await asyncio.sleep(max(0.0, start_at - time.time()))
    await asyncio.gather(
        *(caller(org, "ordinary") for org in plan.organizations for _ in range(plan.tasks)),
        *(urgent_caller(org) for org in plan.organizations for _ in range(plan.urgent_tasks)),
    )
    report = {}
    for org, account in accounts.items():
        limiter = limiters[org]
        account.rate_limited = clients[org].rate_limited
        report[org] = {
            "ok": account.ok,
            "rate_limited": account.rate_limited,
            "sends": account.sends,
            "latency": account.latency,
            "reservations": limiter.reservations,
            "penalties": limiter.penalties,
            "store_failures": limiter.store_failures,
            "late": limiter.late,
        }
    await budgets.aclose()
    await http.aclose()
    return report


async def reserve_only(plan: Plan) -> dict:
    """Reservations as fast as the database answers them (`tasks` at a time per account),
    without sleeping until the slots: how many one PostgreSQL sustains."""
    budgets = RateBudgets(plan.database_url, pool_size=plan.tasks)
    store = budgets.store
    assert store is not None, "the load needs a PostgreSQL database"
    pacing = Pacing(rate=plan.rate)
    counts = dict.fromkeys(plan.organizations, 0)
    await store.reserve(f"{plan.sandbox_url} capacity:warm-up", pacing)  # connect first
    start_at = synchronised_start(plan)
    end = start_at + plan.seconds

    async def reserver(org: str) -> None:
        account = f"{plan.sandbox_url} capacity:{org}"
        while time.time() < end:
            await store.reserve(account, pacing)
            counts[org] += 1

    await asyncio.sleep(max(0.0, start_at - time.time()))
    await asyncio.gather(*(reserver(org) for org in plan.organizations for _ in range(plan.tasks)))
    await budgets.aclose()
    return {org: {"reservations": n} for org, n in counts.items()}


ROOT = Path(__file__).resolve().parent.parent


class Workers:
    """Worker processes on one plan (a dict of `Plan`'s fields), started together."""

    def __init__(self, plan: dict, processes: int) -> None:
        self.plan = plan
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.budget_load", json.dumps(plan)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        for proc in self.procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                self.stop()
                raise RuntimeError("a budget load worker failed to start")

    def start(self, delay: float = 0.5) -> float:
        """Tell every worker to start `delay` seconds from now; return that wall-clock time."""
        start_at = time.time() + delay
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{start_at}\n")
            proc.stdin.close()
        return start_at

    def reports(self) -> list[dict]:
        """Each worker's report, once they have all finished."""
        reports = []
        for proc in self.procs:
            assert proc.stdout is not None
            out = proc.stdout.read()
            proc.wait(timeout=self.plan["seconds"] + 120)
            if proc.returncode:
                raise RuntimeError(f"a budget load worker failed ({proc.returncode})")
            reports.append(json.loads(out.strip().splitlines()[-1]))
        return reports

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def main() -> None:
    plan = Plan(**json.loads(sys.argv[1]))
    print(json.dumps(asyncio.run(reserve_only(plan) if plan.reserve_only else run(plan))))


if __name__ == "__main__":
    main()
