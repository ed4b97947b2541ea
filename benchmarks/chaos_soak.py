"""Chaos soak: `empause pause` under random faults, killed with SIGKILL and restarted, on
each platform's sandbox (Hootsuite, SocialHub).

For each seed: the sandbox is reset (300 scheduled messages over 30 days, all in a 31-day
window), its clock frozen so nothing legitimately publishes, faults switched on (5% 5xx,
2% timeouts with a short hang, 2% lost responses, 429s from a client faster than the
server's limit; on Hootsuite tokens expiring every few seconds too). An `empause pause`
process (configured only by EMPAUSE_* variables, SQLite file) is killed at random moments
and restarted until it exits 0. Then, from the sandbox's own state and publish log:
- Hootsuite: no message lost (one live copy with every field equal), none duplicated;
- SocialHub: every post of the window moved in place exactly once (same `_id`, publishTime
  + shift, content, channel and author unchanged; one move in its history), nothing else
  touched, no post created or lost;
- both: none published while paused.

    python benchmarks/chaos_soak.py [SEEDS] [--first N] [--platform hootsuite|socialhub]
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
from empause.sandbox.socialhub import seed as socialhub_seed

PLATFORMS = ("hootsuite", "socialhub")

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


def _environment(base_url: str, database_url: str, platform: str = "hootsuite") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPAUSE_")}
    env.update(EMPAUSE_DATABASE_URL=database_url, EMPAUSE_RATE_LIMIT=str(CLIENT_RATE))
    if platform == "socialhub":
        env.update(
            EMPAUSE_PLATFORM="socialhub",
            EMPAUSE_SOCIALHUB_BASE_URL=base_url,
            EMPAUSE_SOCIALHUB_ACCESS_TOKEN=socialhub_seed.ACCOUNT_TOKEN,
            EMPAUSE_ORGANIZATION_ID=socialhub_seed.ACCOUNT_ID,
            EMPAUSE_EMERGENCY_TEAM_ID=socialhub_seed.EM_TEAM_ID,
        )
        return env
    env.update(
        EMPAUSE_HOOTSUITE_BASE_URL=base_url,
        EMPAUSE_HOOTSUITE_CLIENT_ID=CLIENT_ID,
        EMPAUSE_HOOTSUITE_CLIENT_SECRET=CLIENT_SECRET,
        EMPAUSE_ORGANIZATION_ID=ORG_ID,
        EMPAUSE_EMERGENCY_TEAM_ID=EM_TEAM_ID,
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


SH_UNCHANGED = ("channel", "content", "author", "postGroupId", "tags", "accountId", "createdTime")


def _moves(post: dict[str, Any]) -> list[dict[str, Any]]:
    """The post's history entries that changed its publishTime."""
    return [h for h in post.get("history") or []
            if h.get("action") == "updated" and h.get("from") != h.get("to")]  # fmt: skip


def check_socialhub(
    before: dict[str, Any], after: dict[str, Any], start: Any, shift: timedelta,
    horizon: timedelta = HORIZON,
) -> list[str]:  # fmt: skip
    """Invariants 1-3 on SocialHub (moves in place), from the sandbox's own record."""
    problems = []
    old = {p["_id"]: p for p in before["posts"]}
    new = {p["_id"]: p for p in after["posts"]}
    if set(new) != set(old):
        problems.append(f"posts created {sorted(set(new) - set(old))[:5]}, "
                        f"lost {sorted(set(old) - set(new))[:5]}")  # fmt: skip
    for pid, was in old.items():
        now = new.get(pid)
        if now is None:
            continue
        changed = [k for k in SH_UNCHANGED if now.get(k) != was.get(k)]
        if changed:
            problems.append(f"{pid}: {changed} changed")
        due = parse_time(was["publishTime"]) if was.get("publishTime") else None
        if was["status"] == "scheduled" and due is not None and start <= due < start + horizon:
            want = due + shift
            got = parse_time(now["publishTime"]) if now.get("publishTime") else None
            if now["status"] != "scheduled" or got != want:
                problems.append(f"{pid}: {now['status']} at {now.get('publishTime')}, "
                                f"want scheduled at {format_time(want)}")  # fmt: skip
            if len(_moves(now)) != len(_moves(was)) + 1:
                problems.append(f"{pid}: moved {len(_moves(now)) - len(_moves(was))} times")
        elif (now["status"], now.get("publishTime")) != (was["status"], was.get("publishTime")):
            problems.append(f"{pid}: out of scope but now {now['status']} at "
                            f"{now.get('publishTime')}")  # fmt: skip
    if after["published"] != before["published"]:
        problems.append(f"published while paused: {after['published'][len(before['published']) :]}")
    return problems


def in_scope_socialhub(before: dict[str, Any], start: Any, horizon: timedelta = HORIZON) -> int:
    return sum(
        1 for p in before["posts"]
        if p["status"] == "scheduled" and p.get("publishTime")
        and start <= parse_time(p["publishTime"]) < start + horizon
    )  # fmt: skip


def chaos_run(
    server: Any, seed: int, workdir: Path, messages: int = 300, max_kills: int = 3,
    platform: str = "hootsuite",
) -> dict[str, Any]:  # fmt: skip
    """One seed on one platform's sandbox (`server`): reset, fault, pause with kills until
    done, check. Returns what happened."""
    control = server.control
    socialhub = platform == "socialhub"
    if socialhub:
        control.reset(seed="demo", posts=messages, rng=seed)
    else:
        control.reset(seed="demo", messages=messages, rng=seed)
    control.clock(frozen=True)
    before = control.state()
    rng = random.Random(seed)
    faults: dict[str, Any] = dict(
        error_rate=0.05, timeout_rate=0.02, hang_seconds=0.3, lost_response_rate=0.02,
        rate_limit=SERVER_RATE,
    )  # fmt: skip
    if not socialhub:  # SocialHub's API tokens do not expire
        faults["token_ttl"] = 3
    control.faults(**faults)
    database = workdir / f"chaos-{platform}-{seed}.db"
    env = _environment(server.base_url, f"sqlite+aiosqlite:///{database}", platform)
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
    calm: dict[str, Any] = dict(error_rate=0, timeout_rate=0, lost_response_rate=0)
    control.faults(**calm) if socialhub else control.faults(**calm, token_ttl=3599)
    after = control.state()
    start = parse_time(summary.get("window_start") or before["now"])
    checker = check_socialhub if socialhub else check
    problems = checker(before, after, start, HORIZON) if summary else ["never finished"]
    return {
        "platform": platform,
        "seed": seed,
        "expected": in_scope_socialhub(before, start) if socialhub else messages,
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
    from empause.sandbox.socialhub.server import SocialHubSandboxServer

    seeds = int(argv[0]) if argv and argv[0].isdigit() else 100
    first = int(argv[argv.index("--first") + 1]) if "--first" in argv else 1
    chosen = [argv[argv.index("--platform") + 1]] if "--platform" in argv else list(PLATFORMS)
    servers = {"hootsuite": lambda: SandboxServer(seed="demo"),
               "socialhub": lambda: SocialHubSandboxServer(seed="demo")}  # fmt: skip
    failures = 0
    for platform in chosen:
        with tempfile.TemporaryDirectory() as tmp, servers[platform]() as server:
            for seed in range(first, first + seeds):
                result = chaos_run(server, seed, Path(tmp), platform=platform)
                failures += bool(result["problems"])
                print(json.dumps(result), flush=True)
    print(f"{seeds} seeds on {', '.join(chosen)}, {failures} with violations")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
