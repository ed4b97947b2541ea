"""Time to safety: our pipelined pause against the floor and against the seed's algorithm.

The sandbox runs in its own process at 150 +/- 30 ms latency and 20 requests/s (Hootsuite's
limit), so this process's peak memory is the engine's. For each N (messages due in the
7-day window): time to safety, total time, API calls, the floor (N + list pages) / 20 s and
our ratio to it, how soon the one message due within 60 s was neutralised, and peak memory.
The seed's algorithm (list everything, then delete + create one message at a time) runs at
N = 200 and 1,000 for comparison.

    python benchmarks/pause_time_to_safety.py [N ...] [--no-seed]     (default: 200 1000 10000)
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from empause.config import Settings, default_organization
from empause.domain.timeutil import format_time, parse_time, utcnow
from empause.engine.service import Engine
from empause.platforms.hootsuite.adapter import HootsuitePlatform
from empause.platforms.ratelimit import reset_registry
from empause.sandbox.control import SandboxControl
from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, EM_MEMBER_ID, ORG_ID, PROFILE_IDS
from empause.store.db import Database
from empause.store.migrate import upgrade

RATE = 20
LATENCY_MS, JITTER_MS = 150, 30
WEEK = timedelta(days=7)
SEED_DAYS = 30  # the demo seed spreads messages over 30 days


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sandbox:
    """`empause sandbox` in a child process."""

    def __init__(self, messages: int):
        self.port = _port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        empause = str(Path(sys.executable).with_name("empause"))
        self.process = subprocess.Popen(
            [empause, "sandbox", "--seed", "demo", "--port", str(self.port),
             "--messages", str(messages), "--rate-limit", str(RATE),
             "--latency-ms", str(LATENCY_MS)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.control = SandboxControl(self.base_url, timeout=300)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.control._http.get("/_sandbox/clock").raise_for_status()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def prepare(self, messages: int) -> dict[str, Any]:
        """Reset, add one message due in 30 s, set latency jitter; returns the urgent one."""
        self.control.reset(seed="demo", messages=messages, rng=7)
        self.control.faults(latency_ms=0, jitter_ms=0, rate_limit=0)
        token = self.control.token(member_id=EM_MEMBER_ID)
        now = parse_time(self.control._http.get("/_sandbox/clock").json()["now"])
        urgent = self.control.create_message(
            token, text="due in 30 seconds", socialProfileIds=[PROFILE_IDS[0]],
            scheduledSendTime=format_time(now + timedelta(seconds=30)),
        )  # fmt: skip
        self.control.faults(latency_ms=LATENCY_MS, jitter_ms=JITTER_MS, rate_limit=RATE)
        return urgent

    def close(self) -> None:
        self.control.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def _platform(base_url: str) -> HootsuitePlatform:
    reset_registry()
    return HootsuitePlatform(base_url, CLIENT_ID, CLIENT_SECRET, ORG_ID, rate_limit=RATE)


def _deleted_at(sandbox: Sandbox, message_id: str) -> Any:
    for message in sandbox.control.state()["messages"]:
        if message["id"] == message_id:
            for event in message["history"]:
                if event["actionType"] == "DELETE":
                    return parse_time(event["timestamp"])
    return None


async def ours(sandbox: Sandbox, workdir: Path, seeded: int) -> dict[str, Any]:
    urgent = sandbox.prepare(seeded)
    url = f"sqlite+aiosqlite:///{workdir / f'bench-{seeded}.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    platform = _platform(sandbox.base_url)
    settings = Settings(database_url=url, hootsuite_base_url=sandbox.base_url, rate_limit=RATE)
    try:
        engine = Engine(db, platform, default_organization(settings))
        started = utcnow()
        summary = await engine.pause("benchmark", by="benchmark")
        # Read before the verification below, which parses the sandbox's whole state here.
        peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    finally:
        await platform.aclose()
        await db.dispose()
    deleted = _deleted_at(sandbox, urgent["id"])
    n = summary["in_scope"]
    pages = math.ceil(n / 100)
    floor = (n + pages) / RATE
    return {
        "algorithm": "empause",
        "n": n,
        "time_to_safety_s": summary["seconds_to_safety"],
        "total_s": summary["total_seconds"],
        "api_calls": summary["api_calls"],
        "floor_s": round(floor, 2),
        "ratio_to_floor": round(summary["seconds_to_safety"] / floor, 3),
        "urgent_neutralised_after_s": round((deleted - started).total_seconds(), 3)
        if deleted
        else None,
        "peak_rss_mb": peak_rss_mb,
        "failed": summary["failed"],
    }


async def seed_algorithm(sandbox: Sandbox, seeded: int) -> dict[str, Any]:
    """seeds/000: list all, then for each message DELETE then CREATE, one at a time."""
    sandbox.prepare(seeded)
    platform = _platform(sandbox.base_url)
    try:
        started = time.monotonic()
        now = utcnow()
        messages = [m async for page in platform.list_due(now, now + WEEK) for m in page]
        safe = started
        for message in messages:
            await platform.neutralise(message)
            safe = time.monotonic()
            await platform.restore(message, message.scheduled_send_time + WEEK)
        total = time.monotonic() - started
        calls = platform.api_calls
    finally:
        await platform.aclose()
    return {
        "algorithm": "seed (sequential delete + create)",
        "n": len(messages),
        "time_to_safety_s": round(safe - started, 3),
        "total_s": round(total, 3),
        "api_calls": calls,
    }


async def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv if a.isdigit()] or [200, 1000, 10000]
    compare = "--no-seed" not in argv
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            seeded = round((n - 1) * SEED_DAYS / 7)  # about n - 1 due in the week, + 1 urgent
            sandbox = await asyncio.to_thread(Sandbox, seeded)
            try:
                mine = await ours(sandbox, Path(tmp), seeded)
                print(json.dumps(mine), flush=True)
                results.append(mine)
                if compare and n <= 1000:
                    theirs = await seed_algorithm(sandbox, seeded)
                    theirs["speedup_time_to_safety"] = round(
                        theirs["time_to_safety_s"] / mine["time_to_safety_s"], 2
                    )
                    theirs["speedup_total"] = round(theirs["total_s"] / mine["total_s"], 2)
                    print(json.dumps(theirs), flush=True)
                    results.append(theirs)
            finally:
                sandbox.close()
    print()
    print(f"{'algorithm':<36}{'N':>7}{'safety s':>10}{'total s':>10}{'calls':>8}"
          f"{'floor s':>9}{'ratio':>7}{'urgent s':>9}{'rss MB':>8}")  # fmt: skip
    for r in results:
        print(
            f"{r['algorithm']:<36}{r['n']:>7}{r['time_to_safety_s']:>10}{r['total_s']:>10}"
            f"{r['api_calls']:>8}{r.get('floor_s', ''):>9}{r.get('ratio_to_floor', ''):>7}"
            f"{r.get('urgent_neutralised_after_s', '') or '':>9}{r.get('peak_rss_mb', ''):>8}"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main(sys.argv[1:]))
