"""Webhook burst: 1,000 Hootsuite message events in 10 s against the running app and sandbox.

Run: .venv/bin/python benchmarks/webhook_burst.py [--events 1000] [--seconds 10]
     [--mode hold|approve] [--rate-limit 20]

The sandbox (`empause sandbox`) and the app (`empause serve`, SQLite) each run in their own
process on loopback; the sandbox's webhooks are registered to the app. A staff member writes
`--events` messages awaiting approval; then this process posts one event per message, in
Hootsuite's envelope, at an even pace, and measures each acknowledgement. It then waits
until every message has a prescreening decision and checks that none was lost.
`--mode hold`: the organization is paused (a real engine pause), so each is held;
`approve`: not paused, so each is approved (the sandbox then emits APPROVED events too).
Each decision re-reads the message upstream, so the time until the last decision is bound
by the account's rate limit (Hootsuite: 20 requests/second). Prints figures; never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import SECRET, sandbox_and_app  # noqa: E402
from empause.config import Settings, default_organization  # noqa: E402
from empause.domain.timeutil import format_time  # noqa: E402
from empause.sandbox import seed  # noqa: E402
from empause.sandbox.control import SandboxControl  # noqa: E402

GOAL_P99_MS = 50.0


async def write_messages(sandbox_url: str, control: SandboxControl, count: int) -> list[str]:
    """`count` staff messages awaiting approval, written with the sandbox's rate limit off."""
    token = control.token(member_id=seed.STAFF_MEMBER_ID)
    now = datetime.fromisoformat(control.state()["now"].replace("Z", "+00:00"))
    ids: list[str] = []
    limit = asyncio.Semaphore(32)
    async with httpx.AsyncClient(
        base_url=sandbox_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:

        async def one(i: int) -> None:
            async with limit:
                when = now + timedelta(hours=1, minutes=7 * i % (5 * 24 * 60))
                response = await client.post("/v1/messages", json={
                    "text": f"Community notice {i}", "scheduledSendTime": format_time(when),
                    "socialProfileIds": [seed.FACEBOOK_PROFILE_ID],
                })  # fmt: skip
                response.raise_for_status()
                ids.append(response.json()["data"][0]["id"])

        await asyncio.gather(*(one(i) for i in range(count)))
    return ids


async def pause_organization(env: dict) -> None:
    """A real pause through the engine (the sandbox has nothing scheduled: it is instant)."""
    from empause.engine.service import Engine
    from empause.platforms.hootsuite.adapter import HootsuitePlatform
    from empause.store.db import Database

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{k[8:].lower(): v for k, v in env.items() if k.startswith("EMPAUSE_")},
    )
    db = Database(settings.database_url)
    platform = HootsuitePlatform.from_settings(settings)
    try:
        await Engine(db, platform, default_organization(settings)).pause(reason="Benchmark emergency", by="bench")
    finally:
        await platform.aclose()
        await db.dispose()


def envelope(message_id: str, seq_no: int, organization_id: str) -> list[dict]:
    return [{
        "seq_no": str(seq_no), "type": "com.hootsuite.messages.event.v1",
        "data": {"state": "PENDING_APPROVAL", "organization": {"id": organization_id},
                 "message": {"id": message_id},
                 "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds")},
    }]  # fmt: skip


async def burst(
    url: str, ids: list[str], seconds: float, organization_id: str
) -> tuple[list[float], list[int], float]:
    """One POST per event at an even pace; (latencies ms, statuses, start time)."""
    latencies: list[float] = []
    statuses: list[int] = []
    interval = seconds / len(ids)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await client.post(url, json={"type": "com.hootsuite.ping.event.v1", "data": {}})

        async def one(i: int, message_id: str) -> None:
            body = envelope(message_id, 1_000_000 + i, organization_id)
            sent = time.perf_counter()
            response = await client.post(url, json=body)
            latencies.append((time.perf_counter() - sent) * 1000)
            statuses.append(response.status_code)

        start = time.perf_counter()
        started_at = time.time()
        tasks = []
        for i, message_id in enumerate(ids):
            delay = start + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, message_id)))
        await asyncio.gather(*tasks)
    return latencies, statuses, started_at


def db_figures(path: Path, ids: list[str]) -> dict:
    with sqlite3.connect(path, timeout=30) as conn:
        conn.execute("CREATE TEMP TABLE wanted (id TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO wanted VALUES (?)", [(i,) for i in ids])
        decided = dict(conn.execute(
            "SELECT decision, count(*) FROM prescreening WHERE message_id IN "
            "(SELECT id FROM wanted) GROUP BY decision"
        ).fetchall())  # fmt: skip
        stored = conn.execute(
            "SELECT count(*) FROM webhook_inbox WHERE state = 'PENDING_APPROVAL' AND "
            "CAST(seq_no AS INTEGER) >= 1000000 AND message_id IN (SELECT id FROM wanted)"
        ).fetchone()[0]
        inbox = dict(
            conn.execute("SELECT status, count(*) FROM webhook_inbox GROUP BY status").fetchall()
        )
        last = conn.execute("SELECT max(decided_at) FROM prescreening").fetchone()[0]
    last_at = datetime.fromisoformat(last).replace(tzinfo=UTC).timestamp() if last else None
    return {"decided": decided, "stored": stored, "inbox": inbox, "last_decision_at": last_at}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--mode", choices=("hold", "approve"), default="hold")
    parser.add_argument("--rate-limit", type=float, default=20.0, help="0 = off")
    parser.add_argument(
        "--organization", default=seed.ORG_ID,
        help="organization id in the events; another one measures receiver + inbox alone "
        "(nothing is decided, so use a short --timeout)",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=600.0, help="max wait for decisions")
    args = parser.parse_args()

    sandbox_args = ["--messages", "0", "--rate-limit", "0"]
    with sandbox_and_app("empause-bench-", sandbox_args, args.rate_limit) as running:
        control = SandboxControl(running.sandbox_url)
        t = time.perf_counter()
        ids = asyncio.run(write_messages(running.sandbox_url, control, args.events))
        print(f"setup: {len(ids)} messages awaiting approval in {time.perf_counter() - t:.1f} s")
        control.faults(rate_limit=args.rate_limit)
        if args.mode == "hold":
            asyncio.run(pause_organization(running.env))
        webhook = f"{running.app_url}/webhooks/hootsuite/{SECRET}"
        control.register_webhook(webhook)

        latencies, statuses, started_at = asyncio.run(
            burst(webhook, ids, args.seconds, args.organization)
        )
        sent_for = time.time() - started_at
        deadline = time.monotonic() + args.timeout
        while True:
            figures = db_figures(running.workdir / "empause.db", ids)
            if sum(figures["decided"].values()) >= len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        state = control.state()
        published = len(state["published"])
        calls = sum(state["calls"].values())
        workdir = running.workdir

    decided = sum(figures["decided"].values())
    last = figures["last_decision_at"]
    result = {
        "events": len(ids),
        "mode": args.mode,
        "rate_limit": args.rate_limit,
        "sent_in_s": round(sent_for, 2),
        "acknowledged_200": statuses.count(200),
        "ack_ms": {
            "p50": round(statistics.median(latencies), 2),
            "p90": round(percentile(latencies, 0.90), 2),
            "p99": round(percentile(latencies, 0.99), 2),
            "max": round(max(latencies), 2),
        },
        "stored_in_inbox": figures["stored"],
        "decided": figures["decided"],
        "lost": len(ids) - decided,
        "inbox": figures["inbox"],
        "time_to_last_decision_s": round(last - started_at, 2) if last else None,
        "sandbox_api_calls": calls,
        "sandbox_calls_by_route": state["calls"],
        "published_while_paused": published if args.mode == "hold" else None,
        "workdir": str(workdir),
    }
    print(json.dumps(result, indent=2))
    p99 = result["ack_ms"]["p99"]
    print(f"ack p50 {result['ack_ms']['p50']} ms, p99 {p99} ms (goal < {GOAL_P99_MS} ms: "
          f"{'met' if p99 < GOAL_P99_MS else 'missed'}); {decided}/{len(ids)} decided, "
          f"last {result['time_to_last_decision_s']} s after the first event")  # fmt: skip


if __name__ == "__main__":
    main()
