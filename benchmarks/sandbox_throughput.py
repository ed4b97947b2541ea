"""Hootsuite sandbox benchmark: requests/second, seeding time and memory at 100,000 messages.

Run: .venv/bin/python benchmarks/sandbox_throughput.py [--seconds 5] [--concurrency 32]
Prints figures and their ratio to the goals; never asserts (timing belongs here, not in tests).
The sandbox runs in a subprocess; load comes from this process (httpx for setup, then
several keep-alive asyncio connections), faults and rate limit off, on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx

from empause.domain.timeutil import format_time
from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, ORG_ID

GOAL_RPS = 1000
GOAL_SEED_SECONDS = 10.0
GOAL_PEAK_MB = 500.0

_SEED_PROBE = r"""
import json, resource, time
from empause.sandbox.state import Sandbox
from empause.sandbox.controlapi import state
from empause.sandbox.http import Request
started = time.perf_counter()
sb = Sandbox(seed="demo", messages=100_000, rate_limit=0)
seeded = time.perf_counter() - started
seeded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
body = state(sb, Request("GET", "/_sandbox/state", "", {}, b"")).body
dump = time.perf_counter() - started
print(json.dumps({"seed_seconds": seeded, "messages": len(sb.world.messages),
                  "state_seconds": dump, "seeded_mb": seeded_mb, "state_mb": len(body) / 1e6,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_SERVER = "from empause.sandbox.server import run; run(port={port}, seed='demo', messages={n}, rate_limit=0)"


def seed_probe() -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _SEED_PROBE], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _connection(
    host: str, port: int, requests: list[bytes], deadline: float, stats: dict
) -> None:
    """One keep-alive HTTP/1.1 connection on raw asyncio streams: a client cheap enough that
    the sandbox, not the load generator, is what gets measured on a 2-core machine."""
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.perf_counter() < deadline:
            request = requests[i % len(requests)]
            i += 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            stats["latencies"].append(time.perf_counter() - started)
            stats["ok" if status < 400 else "error"] += 1
    finally:
        writer.close()


async def load(base: str, seconds: float, concurrency: int) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        token = (
            await client.post(
                "/oauth2/token",
                auth=(CLIENT_ID, CLIENT_SECRET),
                data={"grant_type": "organization_app", "organization_id": ORG_ID},
            )
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        now = datetime.now(UTC)
        window = {"startTime": format_time(now), "endTime": format_time(now + timedelta(days=7))}
        page = (await client.get("/v1/messages", params=window)).json()["data"]
    query = httpx.QueryParams({**window, "limit": 20})
    host, port = base.removeprefix("http://").split(":")
    paths = [f"/v1/messages?{query}", "/v1/socialProfiles"]
    paths += [f"/v1/messages/{m['id']}" for m in page[:20]]
    requests = [
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()
        for path in paths
    ]
    # a realistic mix: 1/4 window queries, 1/4 profiles, 1/2 single messages
    singles = requests[2:]
    mix = [requests[i % 4] if i % 4 < 2 else singles[i % len(singles)] for i in range(40)]
    stats: dict = {"ok": 0, "error": 0, "latencies": []}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _connection(host, int(port), mix[n % len(mix) :] + mix[: n % len(mix)], deadline, stats)
            for n in range(concurrency)
        )
    )
    elapsed = time.perf_counter() - started
    latencies = sorted(stats["latencies"])
    total = stats["ok"] + stats["error"]
    return {
        "requests": total,
        "errors": stats["error"],
        "seconds": elapsed,
        "rps": total / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def throughput(seconds: float, concurrency: int, messages: int) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER.format(port=port, n=messages)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/v1/me", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("sandbox did not start") from None
                time.sleep(0.1)
        return asyncio.run(load(base, seconds, concurrency))
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()

    probe = seed_probe()
    print(
        f"seed 100,000 messages: {probe['seed_seconds']:.2f} s "
        f"(goal < {GOAL_SEED_SECONDS:.0f} s, ratio {GOAL_SEED_SECONDS / probe['seed_seconds']:.1f}x)"
    )
    print(
        f"peak memory at {probe['messages']:,} messages: {probe['seeded_mb']:.0f} MB seeded, "
        f"{probe['peak_mb']:.0f} MB after a full /_sandbox/state "
        f"(goal < {GOAL_PEAK_MB:.0f} MB, ratio {GOAL_PEAK_MB / probe['peak_mb']:.1f}x)"
    )
    print(
        f"/_sandbox/state at {probe['messages']:,} messages: {probe['state_seconds']:.2f} s, "
        f"{probe['state_mb']:.0f} MB of JSON"
    )
    result = throughput(args.seconds, args.concurrency, args.messages)
    print(
        f"throughput ({args.messages:,} messages, {args.concurrency} clients, "
        f"faults and rate limit off): {result['rps']:.0f} req/s over {result['requests']:,} "
        f"requests, {result['errors']} errors, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms (goal >= {GOAL_RPS}, ratio {result['rps'] / GOAL_RPS:.2f}x)"
    )


if __name__ == "__main__":
    main()
