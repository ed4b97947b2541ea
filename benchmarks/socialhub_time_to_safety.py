"""Time to safety on SocialHub: the engine's in-place pause against the floor.

The SocialHub sandbox runs in its own process (`empause sandbox --platform socialhub`) at
150 +/- 30 ms latency and 20 requests/s. Each post in the 7-day window costs one PATCH, so
the floor is posts / 20 s; the goal is a ratio to it of at most 1.1. For each N (posts due in
the window) it prints: posts, seconds to safety, the floor, the ratio, API calls, total
seconds, and whether each post kept its `_id` and moved exactly one week.

    python benchmarks/socialhub_time_to_safety.py [N ...]     (default: 200 1000)
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from empause.domain.organization import OrganizationConfig, PlatformName
from empause.domain.timeutil import parse_time
from empause.engine.service import Engine
from empause.platforms.ratelimit import reset_registry
from empause.platforms.socialhub.adapter import SocialHubPlatform
from empause.sandbox.socialhub import seed
from empause.sandbox.socialhub.control import SocialHubControl
from empause.store.db import Database
from empause.store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import EMPAUSE, free_port, wait_ready  # noqa: E402

RATE = 20
LATENCY_MS, JITTER_MS = 150, 30
GOAL = 1.1
WEEK = timedelta(days=7)
SEED_DAYS = 30  # the demo seed spreads posts over 30 days


def due(post: dict[str, Any]) -> Any:
    return parse_time(post["publishTime"])


def start_sandbox(port: int, posts: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [EMPAUSE, "sandbox", "--platform", "socialhub", "--seed", "demo", "--port", str(port),
         "--posts", str(posts), "--rate-limit", str(RATE), "--latency-ms", str(LATENCY_MS)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def measure(n: int, workdir: Path) -> dict[str, Any]:
    seeded = round(n * SEED_DAYS / 7)  # about n due in the week
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    proc = start_sandbox(port, seeded)
    control = SocialHubControl(base_url, timeout=300)
    try:
        await asyncio.to_thread(wait_ready, f"{base_url}/_sandbox/clock", proc, "the sandbox",
                                (200,))  # fmt: skip
        await asyncio.to_thread(control.faults, jitter_ms=JITTER_MS)
        before = {p["_id"]: p for p in (await asyncio.to_thread(control.state))["posts"]}
        url = f"sqlite+aiosqlite:///{workdir / f'bench-{n}.db'}"
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        reset_registry()
        platform = SocialHubPlatform(base_url, seed.ACCOUNT_TOKEN, rate_limit=RATE)
        org = OrganizationConfig(
            seed.ACCOUNT_ID, PlatformName.SOCIALHUB, seed.EM_TEAM_ID, rate_limit=RATE
        )
        try:
            summary = await Engine(db, platform, org).pause("benchmark", by="benchmark")
        finally:
            await platform.aclose()
            await db.dispose()
        after = {p["_id"]: p for p in (await asyncio.to_thread(control.state))["posts"]}
    finally:
        control.close()
        proc.terminate()
        proc.wait(timeout=10)
    start, end = parse_time(summary["window_start"]), parse_time(summary["window_end"])
    moved = [pid for pid, p in before.items()
             if p["status"] == "scheduled" and start <= due(p) < end]  # fmt: skip
    in_place = set(after) == set(before) and all(
        due(after[pid]) == due(before[pid]) + WEEK and after[pid]["content"] == before[pid]["content"]
        for pid in moved
    )
    posts = summary["in_scope"]
    floor = posts / RATE
    safety = summary["seconds_to_safety"]
    return {
        "posts": posts,
        "seconds_to_safety": safety,
        "floor_s": round(floor, 2),
        "ratio_to_floor": round(safety / floor, 3) if floor else None,
        "goal": GOAL,
        "api_calls": summary["api_calls"],
        "total_s": summary["total_seconds"],
        "failed": summary["failed"],
        "moved_in_place": in_place and summary["moved"] == len(moved),
    }


async def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv if a.isdigit()] or [200, 1000]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            result = await measure(n, Path(tmp))
            print(json.dumps(result), flush=True)
            results.append(result)
    print()
    print(f"{'posts':>7}{'safety s':>10}{'floor s':>9}{'ratio':>7}{'calls':>7}{'total s':>9}"
          f"{'in place':>10}")  # fmt: skip
    for r in results:
        print(f"{r['posts']:>7}{r['seconds_to_safety']:>10}{r['floor_s']:>9}"
              f"{r['ratio_to_floor']:>7}{r['api_calls']:>7}{r['total_s']:>9}"
              f"{r['moved_in_place']!s:>10}")  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main(sys.argv[1:]))
