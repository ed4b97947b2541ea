"""Many organizations, many workers: 20 organizations paused at once on PostgreSQL jobs.

The Hootsuite sandbox (its own process, 150 ms latency, 20 requests/s per organization)
seeds K organizations with ~N scheduled messages each; `empause worker` processes (each
running up to --concurrency jobs) take the pauses, pressed for every organization at the
same moment through the same path as `empause pause --no-wait`. For each worker count this
prints every organization's time to safety against its own rate-limit floor (its calls to
be safe / 20 per second), the makespan against the slowest floor, and, from the sandbox's
own record, whether anything was lost, duplicated or published. `--kill` SIGKILLs one worker
2 s after the press (with the largest worker count).

    python benchmarks/many_orgs.py [--orgs 20] [--messages 200] [--workers 1 2 4]
                                   [--concurrency 5] [--no-kill]

Needs PostgreSQL: EMPAUSE_TEST_POSTGRES_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from benchmarks.chaos_soak import check
from benchmarks.processes import EMPAUSE, free_port, wait_ready
from empause.bootstrap import Services
from empause.config import Settings
from empause.domain.organization import PlatformName
from empause.domain.timeutil import parse_time
from empause.jobs import ProcrastinateQueue
from empause.jobs.handlers import EngineHandlers
from empause.platforms.hootsuite.adapter import PAGE_LIMIT
from empause.sandbox import seed
from empause.store import organizations
from empause.store.db import make_engine
from empause.store.models import Operation

RATE = 20
LATENCY_MS = 150
# The seed spreads messages over 30 days: every scheduled one is in scope, and each copy
# lands one window later, outside it.
WINDOW = "40d"
SHIFT = timedelta(days=40)
KILL_AFTER = 2.0
POSTGRES = os.environ.get(
    "EMPAUSE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def _admin(statement: str) -> None:
    engine = make_engine(POSTGRES)
    try:
        async with engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text(statement)
            )
    finally:
        await engine.dispose()


def _floor(in_scope: int) -> float:
    """Calls to be safe (a token, the listing's pages, one DELETE each) at 20 per second."""
    return (1 + max(1, math.ceil(in_scope / PAGE_LIMIT)) + in_scope) / RATE


class World:
    """A fresh database and sandbox for one run."""

    def __init__(self, orgs: int, messages: int, workdir: Path):
        self.name = f"empause_bench_{uuid.uuid4().hex[:8]}"
        self.database_url = (
            make_url(POSTGRES).set(database=self.name).render_as_string(hide_password=False)
        )
        port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{port}"
        self.log = open(workdir / f"{self.name}.log", "w")
        self.sandbox = subprocess.Popen(
            [EMPAUSE, "sandbox", "--seed", "demo", "--port", str(port),
             "--organizations", str(orgs), "--messages", str(messages),
             "--latency-ms", str(LATENCY_MS), "--rate-limit", str(RATE)],
            stdout=self.log, stderr=self.log,
        )  # fmt: skip
        wait_ready(f"{self.sandbox_url}/v1/me", self.sandbox, "the sandbox", (401,))
        self.env = {
            **os.environ,
            "EMPAUSE_DATABASE_URL": self.database_url,
            "EMPAUSE_HOOTSUITE_BASE_URL": self.sandbox_url,
            "EMPAUSE_HOOTSUITE_CLIENT_ID": seed.CLIENT_ID,
            "EMPAUSE_HOOTSUITE_CLIENT_SECRET": seed.CLIENT_SECRET,
            "EMPAUSE_ORGANIZATION_ID": "",
            "EMPAUSE_EMERGENCY_TEAM_ID": "",
            "EMPAUSE_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "EMPAUSE_WEBHOOK_SECRET": "bench-webhook-secret-not-for-production-0123",
            "EMPAUSE_RATE_LIMIT": str(RATE),
        }
        self.settings = Settings(
            database_url=self.database_url, hootsuite_base_url=self.sandbox_url,
            hootsuite_client_id=seed.CLIENT_ID, hootsuite_client_secret=seed.CLIENT_SECRET,
            organization_id="", emergency_team_id="", rate_limit=RATE,
            secret_key=self.env["EMPAUSE_SECRET_KEY"],
        )  # fmt: skip
        self.workers: list[subprocess.Popen[bytes]] = []

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.sandbox_url}/_sandbox/state", timeout=120).json()  # type: ignore[no-any-return]

    def start_workers(self, count: int, concurrency: int) -> None:
        for _ in range(count):
            self.workers.append(subprocess.Popen(
                [EMPAUSE, "worker", "--concurrency", str(concurrency)],
                stdout=self.log, stderr=self.log, env=self.env,
            ))  # fmt: skip

    def close(self) -> None:
        for proc in [*self.workers, self.sandbox]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, self.sandbox]:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()


async def _workers_ready(services: Services, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        async with services.db.sessions() as session:
            try:
                alive = await session.scalar(text("SELECT count(*) FROM procrastinate_workers"))
            except Exception:  # the schema is not there yet
                alive = 0
        if (alive or 0) >= count:
            return
        await asyncio.sleep(0.2)
    raise SystemExit(f"{count} workers did not start")


async def run(orgs: int, messages: int, workers: int, concurrency: int, kill: bool,
              workdir: Path) -> dict[str, Any]:  # fmt: skip
    world = World(orgs, messages, workdir)
    await _admin(f'CREATE DATABASE "{world.name}"')
    try:
        services = Services(world.settings)
        await services.start()
        listed = world.state()["organizations"]
        async with services.db.sessions() as session:
            for org in listed:
                await organizations.add(
                    session, organization_id=str(org["id"]), platform=PlatformName.HOOTSUITE,
                    emergency_team_id=str(org["emergency_team_id"]), name=str(org["name"]),
                )  # fmt: skip
            await session.commit()
        queue = ProcrastinateQueue(world.database_url, EngineHandlers(services))
        await queue.open()
        world.start_workers(workers, concurrency)
        await _workers_ready(services, workers)
        before = world.state()
        start = parse_time(before["now"])
        configs = await services.organizations()

        pressed = time.monotonic()
        pressed_wall = time.time()
        for org in configs:  # as 20 operators pressing `empause pause --no-wait` at once
            begun = await services.engine(org).begin_pause(
                "Benchmark emergency", "bench", horizon=WINDOW, shift=WINDOW
            )
            assert begun.operation_id is not None
            await queue.defer_operation(org.organization_id, begun.operation_id)
        killed = None
        if kill:
            await asyncio.sleep(max(0.0, KILL_AFTER - (time.monotonic() - pressed)))
            world.workers[0].send_signal(signal.SIGKILL)
            killed = time.monotonic() - pressed

        deadline = time.monotonic() + 900
        while True:
            async with services.db.sessions() as session:
                ops = list(await session.scalars(select(Operation)))
            if ops and all(op.status != "running" for op in ops):
                break
            if time.monotonic() > deadline:
                raise SystemExit("operations did not finish within 15 minutes")
            await asyncio.sleep(0.25)
        finished = time.monotonic() - pressed
        await queue.close()
        await services.aclose()

        rows = []
        for op in ops:
            safe = op.safe_at.timestamp() - pressed_wall if op.safe_at else math.inf
            floor = _floor(op.in_scope)
            rows.append({"org": op.organization_id, "in_scope": op.in_scope,
                         "safe_s": safe, "floor_s": floor, "ratio": safe / floor,
                         "status": op.status, "api_calls": op.api_calls})  # fmt: skip
        after = world.state()
        problems = check(before, after, start, SHIFT)
        return {
            "workers": workers, "killed_at_s": killed, "rows": rows,
            "worst_ratio": max(r["ratio"] for r in rows),
            "makespan_s": max(r["safe_s"] for r in rows),
            "slowest_floor_s": max(r["floor_s"] for r in rows),
            "finished_s": finished, "problems": problems,
            "messages": sum(r["in_scope"] for r in rows),
        }  # fmt: skip
    finally:
        world.close()
        await _admin(f'DROP DATABASE IF EXISTS "{world.name}" WITH (FORCE)')


def report(result: dict[str, Any], verbose: bool) -> None:
    label = f"{result['workers']} worker(s)"
    if result["killed_at_s"] is not None:
        label += f", one SIGKILLed at +{result['killed_at_s']:.1f} s"
    makespan_ratio = result["makespan_s"] / result["slowest_floor_s"]
    print(f"\n== {label}: {len(result['rows'])} organizations, {result['messages']} messages")
    if verbose:
        for row in sorted(result["rows"], key=lambda r: r["safe_s"]):
            print(f"   org {row['org']:>8}: {row['in_scope']:4d} in scope, safe after "
                  f"{row['safe_s']:6.2f} s, floor {row['floor_s']:5.2f} s, ratio "
                  f"{row['ratio']:.3f}, {row['api_calls']} calls, {row['status']}")  # fmt: skip
    print(f"   worst organization: {result['worst_ratio']:.3f} x its floor (goal <= 1.15)")
    print(f"   makespan (all safe): {result['makespan_s']:.2f} s = {makespan_ratio:.3f} x the "
          f"slowest floor {result['slowest_floor_s']:.2f} s (goal <= 1.2); all finished "
          f"after {result['finished_s']:.2f} s")  # fmt: skip
    problems = result["problems"]
    print(f"   sandbox record: {'no loss, no duplicate, nothing published' if not problems else problems[:10]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orgs", type=int, default=20)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "empause-many-orgs"
    workdir.mkdir(exist_ok=True)
    results = []
    plan = [(w, False) for w in args.workers]
    if not args.no_kill:
        plan.append((max(args.workers), True))
    for workers, kill in plan:
        result = asyncio.run(run(args.orgs, args.messages, workers, args.concurrency, kill, workdir))
        report(result, args.verbose)
        results.append(result)
    print("\n   workers  makespan  x slowest floor  worst org ratio")
    for r in results:
        tag = " (kill)" if r["killed_at_s"] is not None else ""
        print(f"   {r['workers']:>7}{tag:<7} {r['makespan_s']:7.2f} s  "
              f"{r['makespan_s'] / r['slowest_floor_s']:15.3f}  {r['worst_ratio']:15.3f}")  # fmt: skip
    if any(r["problems"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
