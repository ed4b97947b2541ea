"""Status polling during a pause: 16 clients reading /api/status 10 times a second must change
time to safety by less than 5 %.

Run: .venv/bin/python benchmarks/status_polling.py [--messages 600] [--clients 16] [--rate 10]

Twice, each on a fresh sandbox (150 ms latency, 20 requests/s, `--messages` seeded over 30
days) and a fresh app (`empause serve`, SQLite): a pause through the JSON API with nobody
watching, then the same with `--clients` pollers at `--rate` reads/s each. Prints both
times to safety, their ratio, the upstream calls each run made, and the poll latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import EMPAUSE, sandbox_and_app  # noqa: E402
from empause.sandbox import seed  # noqa: E402
from empause.sandbox.control import SandboxControl  # noqa: E402

GOAL_RATIO = 1.05
LATENCY_MS = 150


def api_key(env: dict) -> str:
    made = subprocess.run(
        [EMPAUSE, "api-key", "create", "--name", "bench", "--member", seed.EM_EMAIL, "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return str(json.loads(made.stdout)["key"])


async def poll(base: str, key: str, clients: int, rate: float, stop: asyncio.Event) -> list[float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def one() -> None:
            while not stop.is_set():
                sent = time.perf_counter()
                response = await client.get("/api/status")
                response.raise_for_status()
                latencies.append((time.perf_counter() - sent) * 1000)
                await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - sent)))

        await asyncio.gather(*(one() for _ in range(clients)))
    return latencies


async def pause_and_watch(base: str, key: str, clients: int, rate: float) -> dict:
    stop = asyncio.Event()
    pollers = asyncio.create_task(poll(base, key, clients, rate, stop)) if clients else None
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        answer = await client.post("/api/pause", json={"reason": "Benchmark"})
        answer.raise_for_status()
        while True:
            status = (await client.get("/api/status")).json()
            op = status.get("operation") or {}
            if status["paused"] and op.get("safe_at") and op.get("seconds_to_safety"):
                break
            await asyncio.sleep(0.2)
    stop.set()
    latencies = await pollers if pollers else []
    return {"operation": op, "latencies": latencies}


def run(messages: int, clients: int, rate: float) -> dict:
    sandbox_args = ["--messages", str(messages), "--rate-limit", "20",
                    "--latency-ms", str(LATENCY_MS)]  # fmt: skip
    with sandbox_and_app("empause-polling-", sandbox_args) as running:
        key = api_key(running.env)
        control = SandboxControl(running.sandbox_url)
        before = sum(control.state()["calls"].values())
        watched = asyncio.run(pause_and_watch(running.app_url, key, clients, rate))
        calls = sum(control.state()["calls"].values()) - before
    op, latencies = watched["operation"], watched["latencies"]
    return {
        "clients": clients,
        "in_scope": op.get("in_scope"),
        "seconds_to_safety": op.get("seconds_to_safety"),
        "upstream_calls": calls,
        "polls": len(latencies),
        "poll_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
        "poll_ms_max": round(max(latencies), 1) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rate", type=float, default=10.0)
    args = parser.parse_args()
    quiet = run(args.messages, 0, args.rate)
    watched = run(args.messages, args.clients, args.rate)
    ratio = watched["seconds_to_safety"] / quiet["seconds_to_safety"]
    print(json.dumps({"unwatched": quiet, "watched": watched, "ratio": round(ratio, 3)}, indent=2))
    print(
        f"time to safety {quiet['seconds_to_safety']:.2f} s alone, "
        f"{watched['seconds_to_safety']:.2f} s with {args.clients} clients polling at "
        f"{args.rate:g}/s: ratio {ratio:.3f} (goal < {GOAL_RATIO}: "
        f"{'met' if ratio < GOAL_RATIO else 'missed'})"
    )


if __name__ == "__main__":
    main()
