"""Webhook flood: 3,000 forged events in flight cannot delay enforcement.

Run: .venv/bin/python benchmarks/webhook_flood.py [--forged 3000] [--due-in 30]
     [--latency-ms 150] [--rate-limit 20]

The sandbox and the app (`empause serve`, SQLite) run in their own processes on loopback; the
organization is paused. This process posts `--forged` forged message events (ids that do not
exist, states that ask for work) as fast as the app acknowledges them; while they are in
flight a staff member publishes a message directly (no approval) due `--due-in` seconds
later, and the sandbox sends its genuine webhook. Measured: from that event until the
message is no longer scheduled at its time (moved, by whichever path got there first), and
whether it was ever published. Goal: within 2 s, never published. Prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import SECRET, sandbox_and_app  # noqa: E402
from benchmarks.webhook_burst import pause_organization  # noqa: E402
from empause.domain.timeutil import format_time, parse_time  # noqa: E402
from empause.sandbox import seed  # noqa: E402
from empause.sandbox.control import SandboxControl  # noqa: E402

GOAL_SECONDS = 2.0


def forged(i: int) -> dict:
    state = "SCHEDULED" if i % 2 else "PENDING_APPROVAL"
    return {
        "seq_no": str(5_000_000 + i), "type": "com.hootsuite.messages.event.v1",
        "data": {"state": state, "organization": {"id": seed.ORG_ID},
                 "message": {"id": str(900_000_000_000 + i)}},
    }  # fmt: skip


async def flood(url: str, count: int) -> tuple[int, float]:
    """Post the forged events, 50 a body, 16 bodies at a time; (acknowledged, seconds)."""
    limits = httpx.Limits(max_connections=16)
    started = time.perf_counter()
    acknowledged = 0
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        gate = asyncio.Semaphore(16)

        async def one(start: int) -> None:
            nonlocal acknowledged
            async with gate:
                body = [forged(i) for i in range(start, min(count, start + 50))]
                if (await client.post(url, json=body)).status_code == 200:
                    acknowledged += len(body)

        await asyncio.gather(*(one(s) for s in range(0, count, 50)))
    return acknowledged, time.perf_counter() - started


def genuine_post(control: SandboxControl, due_in: float) -> tuple[str, float]:
    control.set_member(seed.STAFF_MEMBER_ID, needs_approval=False)
    now = parse_time(control.state()["now"])
    made = control.create_message(
        control.token(member_id=seed.STAFF_MEMBER_ID), text="Staff: picnic photos!",
        socialProfileIds=[seed.FACEBOOK_PROFILE_ID],
        scheduledSendTime=format_time(now + timedelta(seconds=due_in)),
    )  # fmt: skip
    return made["id"], time.perf_counter()


def message_state(sandbox_url: str, token: str, message_id: str) -> str:
    answer = httpx.get(
        f"{sandbox_url}/v1/messages/{message_id}", headers={"Authorization": f"Bearer {token}"}
    )
    if answer.status_code == 404:
        return "DELETED"
    data = answer.json()["data"]
    return str((data[0] if isinstance(data, list) else data)["state"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forged", type=int, default=3000)
    parser.add_argument("--due-in", type=float, default=30.0)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--rate-limit", type=float, default=20.0)
    args = parser.parse_args()

    sandbox_args = ["--messages", "0", "--rate-limit", str(args.rate_limit),
                    "--latency-ms", str(args.latency_ms)]  # fmt: skip
    with sandbox_and_app("empause-flood-", sandbox_args, args.rate_limit) as running:
        control = SandboxControl(running.sandbox_url)
        asyncio.run(pause_organization(running.env))
        webhook = f"{running.app_url}/webhooks/hootsuite/{SECRET}"
        control.register_webhook(webhook)

        acknowledged, flood_seconds = asyncio.run(flood(webhook, args.forged))
        reader = control.token(member_id=seed.ADMIN_MEMBER_ID)
        message_id, created = genuine_post(control, args.due_in)
        moved_after = None
        deadline = created + args.due_in + 10
        while time.perf_counter() < deadline:
            if message_state(running.sandbox_url, reader, message_id) != "SCHEDULED":
                moved_after = time.perf_counter() - created
                break
            time.sleep(0.05)
        remaining = deadline - time.perf_counter()
        if remaining > 0:
            time.sleep(min(remaining, args.due_in + 2))  # past its time: was it published?
        published = [p["message_id"] for p in control.state()["published"]]
        healthy = httpx.get(f"{running.app_url}/healthz").status_code == 200
        workdir = running.workdir

    result = {
        "forged_events": args.forged,
        "acknowledged": acknowledged,
        "flood_posted_in_s": round(flood_seconds, 2),
        "latency_ms": args.latency_ms,
        "rate_limit": args.rate_limit,
        "genuine_due_in_s": args.due_in,
        "genuine_moved_after_s": None if moved_after is None else round(moved_after, 2),
        "genuine_published": message_id in published,
        "app_healthy_after": healthy,
        "workdir": str(workdir),
    }
    print(json.dumps(result, indent=2))
    if moved_after is None:
        print("genuine message NOT moved: goal missed")
    else:
        print(
            f"genuine staff message moved {moved_after:.2f} s after its event with "
            f"{args.forged} forged events in flight (goal < {GOAL_SECONDS} s: ratio "
            f"{moved_after / GOAL_SECONDS:.2f}); published: {message_id in published}"
        )


if __name__ == "__main__":
    main()
