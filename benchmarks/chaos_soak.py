"""Chaos soak: `empause pause` under random faults, killed with SIGKILL and restarted.

For each seed: the sandbox is reset (300 scheduled messages over 30 days, all in a 31-day
window), its clock frozen so nothing legitimately publishes, faults switched on (5% 5xx,
2% timeouts with a short hang, 2% lost responses, 429s from a client faster than the
server's limit, tokens expiring every few seconds). An `empause pause` process (configured
only by EMPAUSE_* variables, SQLite file) is killed at random moments and restarted until it
exits 0. Then, from the sandbox's own state and publish log: no message lost (one live copy
with every field equal), none duplicated, none published while paused.

    python benchmarks/chaos_soak.py [SEEDS] [--first N]
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from empause.domain.timeutil import format_time, parse_time
from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, EM_TEAM_ID, ORG_ID

HORIZON = timedelta(days=31)
SERVER_RATE = 200  # requests/s the sandbox allows
CLIENT_RATE = 260  # requests/s the client aims for: 429 bursts guaranteed
MAX_RUNS = 12
COMPARED = (
    "text", "socialProfile", "media", "mediaUrls", "tags", "targeting", "privacy",
    "location", "webhookUrls", "emailNotification", "extendedInfo",
)  # fmt: skip


def _empause() -> str:
    return str(Path(sys.executable).with_name("empause"))


def _environment(base_url: str, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPAUSE_")}
    env.update(
        EMPAUSE_DATABASE_URL=database_url,
        EMPAUSE_HOOTSUITE_BASE_URL=base_url,
        EMPAUSE_HOOTSUITE_CLIENT_ID=CLIENT_ID,
        EMPAUSE_HOOTSUITE_CLIENT_SECRET=CLIENT_SECRET,
        EMPAUSE_ORGANIZATION_ID=ORG_ID,
        EMPAUSE_EMERGENCY_TEAM_ID=EM_TEAM_ID,
        EMPAUSE_RATE_LIMIT=str(CLIENT_RATE),
    )
    return env


def _fields(message: dict[str, Any]) -> tuple[Any, ...]:
    values = []
    for key in COMPARED:
        value = message.get(key)
        if key == "socialProfile":
            value = (value or {}).get("id")
        if key == "media":
            value = [item.get("id") for item in value or []] or None
        values.append(json.dumps(value, sort_keys=True))
    return tuple(values)


def check(before: dict[str, Any], after: dict[str, Any], start: Any, shift: timedelta) -> list[str]:
    """Invariants 1-3 from the sandbox's own record; returns the violations."""
    problems = []
    scope = {
        m["id"]: m
        for m in before["messages"]
        if m["state"] == "SCHEDULED" and parse_time(m["scheduledSendTime"]) >= start
    }
    now = {m["id"]: m for m in after["messages"]}
    live = [m for m in after["messages"] if m["state"] not in ("DELETED", "REJECTED")]
    copies: dict[tuple[Any, ...], list[str]] = {}
    for m in live:
        copies.setdefault((m["scheduledSendTime"], *_fields(m)), []).append(m["id"])
    for mid, original in scope.items():
        if now[mid]["state"] != "DELETED":
            problems.append(f"{mid}: original still {now[mid]['state']}")
        when = parse_time(original["scheduledSendTime"]) + shift
        key = (format_time(when), *_fields(original))
        found = [c for c in copies.get(key, []) if c not in scope]
        if len(found) != 1:
            problems.append(f"{mid}: {len(found)} live copies at {key[0]} (want exactly 1)")
    live_before = [m for m in before["messages"] if m["state"] not in ("DELETED", "REJECTED")]
    if len(live) != len(live_before):
        problems.append(f"{len(live)} live messages, {len(live_before)} before")
    if after["published"] != before["published"]:
        problems.append(f"published while paused: {after['published'][len(before['published']) :]}")
    return problems


def chaos_run(
    server: Any, seed: int, workdir: Path, messages: int = 300, max_kills: int = 3
) -> dict[str, Any]:
    """One seed: reset, fault, pause with kills until done, check. Returns what happened."""
    control = server.control
    control.reset(seed="demo", messages=messages, rng=seed)
    control.clock(frozen=True)
    before = control.state()
    rng = random.Random(seed)
    control.faults(
        error_rate=0.05, timeout_rate=0.02, hang_seconds=0.3, lost_response_rate=0.02,
        rate_limit=SERVER_RATE, token_ttl=3,
    )  # fmt: skip
    database = workdir / f"chaos-{seed}.db"
    env = _environment(server.base_url, f"sqlite+aiosqlite:///{database}")
    args = [_empause(), "pause", "--reason", f"chaos {seed}", "--horizon", "31d",
            "--shift", "31d", "--json"]  # fmt: skip
    # Migrate first: kills target the pause (see the report on killing a first migration).
    subprocess.run([_empause(), "db", "upgrade"], env=env, check=True, capture_output=True)
    kills, runs, started = 0, 0, time.monotonic()
    summary: dict[str, Any] = {}
    while runs < MAX_RUNS:
        runs += 1
        process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if kills < max_kills and runs < MAX_RUNS:
            try:
                process.wait(timeout=rng.uniform(0.6, 2.8))
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += 1
                continue
        out, err = process.communicate(timeout=300)
        if process.returncode == 0:
            summary = json.loads(out)
            break
        if process.returncode != 4:  # 4: upstream kept failing; anything else is a bug
            raise RuntimeError(f"seed {seed}: exit {process.returncode}: {err.decode()[-2000:]}")
    control.faults(error_rate=0, timeout_rate=0, lost_response_rate=0, token_ttl=3599)
    after = control.state()
    start = parse_time(summary.get("window_start") or before["now"])
    problems = check(before, after, start, HORIZON) if summary else ["never finished"]
    return {
        "seed": seed,
        "runs": runs,
        "kills": kills,
        "seconds": round(time.monotonic() - started, 2),
        "in_scope": summary.get("in_scope"),
        "moved": summary.get("moved"),
        "api_calls": summary.get("api_calls"),
        "calls": sum(after["calls"].values()) - sum(before["calls"].values()),
        "problems": problems,
    }


def main(argv: list[str]) -> int:
    from empause.sandbox.server import SandboxServer

    seeds = int(argv[0]) if argv and argv[0].isdigit() else 100
    first = int(argv[argv.index("--first") + 1]) if "--first" in argv else 1
    failures = 0
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(seed="demo") as server:
        for seed in range(first, first + seeds):
            result = chaos_run(server, seed, Path(tmp))
            failures += bool(result["problems"])
            print(json.dumps(result), flush=True)
    print(f"{seeds} seeds, {failures} with violations")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
