"""Shared rate budget benchmark: worker processes calling the same Hootsuite accounts.

Run: .venv/bin/python benchmarks/shared_budget.py [--seconds 10] [--processes 4]
     [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
(the URL defaults to EMPAUSE_TEST_POSTGRES_URL; a fresh database is created and dropped).

The sandbox runs in a subprocess with its real limit (20 requests per fixed one-second
window per account, 429 past it); each worker process (benchmarks/budget_load.py) paces its
calls with `RateBudgets.budget_for`, so every process shares one budget per account through
PostgreSQL. Scenarios: 4 processes x 1 account, 4 processes x 20 accounts (with HTTP, and
taking slots only), the load generator's ceiling without any limit or pacing, and the
database's own capacity (reservations back to back, 20 accounts, no HTTP).
Achieved req/s per account counts the sends after the first second.
Prints figures and their ratio to the goals; never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from empause.sandbox.control import SandboxControl
from empause.sandbox.seed import seed_organization
from empause.store.db import make_engine
from empause.store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.budget_load import Workers  # noqa: E402
from benchmarks.processes import EMPAUSE, free_port, wait_ready  # noqa: E402

RATE = 20  # the sandbox's (and Hootsuite's) limit per account per second
GOAL_SHARE = 0.9  # achieved req/s per account, as a share of RATE


async def _admin(url: str, statement: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def run_workers(plan: dict, processes: int) -> tuple[list[dict], float]:
    """Run `processes` workers on the same plan, started together; return each one's report
    and the start time."""
    workers = Workers(plan, processes)
    try:
        start_at = workers.start()
        return workers.reports(), start_at
    finally:
        workers.stop()


def summarize(reports: list[dict], plan: dict, start_at: float) -> dict:
    """Per account: requests that succeeded per second, 429s, and the busiest wall-clock
    second as the workers saw their sends (the sandbox counts by arrival)."""
    seconds = plan["seconds"]
    steady = seconds - 1  # the first second is left out: it starts with a burst
    per_account = []
    reservations = 0
    penalties = 0
    failures = 0
    late = 0
    for org in plan["organizations"]:
        ok = sum(r[org]["ok"] for r in reports)
        limited = sum(r[org]["rate_limited"] for r in reports)
        sends = sorted(t for r in reports for t in r[org]["sends"])
        inside = [t for t in sends if start_at + 1 <= t < start_at + seconds]
        windows = Counter(int(t) for t in inside)
        reservations += sum(r[org]["reservations"] for r in reports)
        penalties += sum(r[org]["penalties"] for r in reports)
        failures += sum(r[org]["store_failures"] for r in reports)
        late += sum(r[org]["late"] for r in reports)
        per_account.append(
            {
                "ok": ok,
                "rps": len(inside) / steady,
                "rate_limited": limited,
                "busiest_second": max(windows.values(), default=0),
            }
        )
    rps = [a["rps"] for a in per_account]
    return {
        "accounts": len(per_account),
        "rps_per_account_min": round(min(rps), 2),
        "rps_per_account_mean": round(sum(rps) / len(rps), 2),
        "ratio_to_goal": round(min(rps) / (GOAL_SHARE * RATE), 3),
        "requests_ok": sum(a["ok"] for a in per_account),
        "http_429": sum(a["rate_limited"] for a in per_account),
        "busiest_second_by_send_time": max(a["busiest_second"] for a in per_account),
        "penalties": penalties,
        "store_failures": failures,
        "slots_given_up_late_per_s": round(late / seconds, 1),
        "reservations_per_s": round(reservations / seconds, 1),
    }


def scenario(
    base: dict, processes: int, organizations: int, **extra: object
) -> tuple[list[dict], dict, float]:
    orgs = [seed_organization(i).id for i in range(organizations)]
    plan = {**base, "organizations": orgs, **extra}
    reports, start_at = run_workers(plan, processes)
    return reports, plan, start_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=3, help="callers per account per process")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "EMPAUSE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    name = f"empause_bench_budget_{uuid.uuid4().hex[:8]}"
    url = make_url(args.database_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(args.database_url, f'CREATE DATABASE "{name}"'))
    port = free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    sandbox = subprocess.Popen(
        [EMPAUSE, "sandbox", "--port", str(port), "--seed", "demo", "--messages", "0",
         "--rate-limit", str(RATE), "--organizations", "20"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        upgrade(url)
        wait_ready(f"{sandbox_url}/v1/me", sandbox, "the sandbox", (401,))
        base = {
            "sandbox_url": sandbox_url,
            "database_url": url,
            "seconds": args.seconds,
            "tasks": args.tasks,
            "rate": RATE,
        }
        results = {}
        for label, organizations, extra in (
            ("1 account", 1, {}),
            ("20 accounts", 20, {}),
            ("20 accounts, slots only (no HTTP)", 20, {"no_http": True}),
        ):
            reports, plan, start_at = scenario(base, args.processes, organizations, **extra)
            results[f"{args.processes} processes x {label}"] = summarize(reports, plan, start_at)
        # What this machine's load generator can do at all: no limit upstream, no pacing.
        control = SandboxControl(sandbox_url)
        control.faults(rate_limit=0)
        reports, plan, start_at = scenario(base, args.processes, 20, rate=100_000)
        ceiling = summarize(reports, plan, start_at)
        results["harness ceiling (no limit, no pacing), total req/s"] = round(
            ceiling["rps_per_account_mean"] * 20, 1
        )
        control.faults(rate_limit=RATE)
        control.close()
        reports, plan, _ = scenario(base, args.processes, 20, reserve_only=True, tasks=2)
        total = sum(r[org]["reservations"] for r in reports for org in plan["organizations"])
        results["database capacity (reservations back to back)"] = {
            "processes": args.processes,
            "accounts": 20,
            "reservations_per_s": round(total / args.seconds, 1),
            "ratio_to_need": round(total / args.seconds / (20 * RATE), 2),
        }
    finally:
        sandbox.terminate()
        sandbox.wait(10)
        asyncio.run(_admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
