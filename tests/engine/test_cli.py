"""`empause pause | resume | status` as a user runs them: a subprocess configured by env."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, EM_TEAM_ID, ORG_ID

from .conftest import FAST_RATE, live, state


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_empause(), *args],
        env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _empause() -> str:
    return os.path.join(os.path.dirname(sys.executable), "empause")


def environment(sandbox, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPAUSE_")}
    env.update(
        EMPAUSE_DATABASE_URL=database_url,
        EMPAUSE_HOOTSUITE_BASE_URL=sandbox.base_url,
        EMPAUSE_HOOTSUITE_CLIENT_ID=CLIENT_ID,
        EMPAUSE_HOOTSUITE_CLIENT_SECRET=CLIENT_SECRET,
        EMPAUSE_ORGANIZATION_ID=ORG_ID,
        EMPAUSE_EMERGENCY_TEAM_ID=EM_TEAM_ID,
        EMPAUSE_RATE_LIMIT=str(FAST_RATE),
        **extra,
    )
    return env


def test_pause_status_resume_json(fast_sandbox, database_url, tmp_path):
    env = environment(fast_sandbox, database_url)
    before = state(fast_sandbox)
    done = run(["pause", "--reason", "storm", "--json"], env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "done" and summary["moved"] == summary["in_scope"] > 0
    assert summary["failed"] == 0 and summary["api_calls"] > summary["in_scope"]
    assert summary["seconds_to_safety"] <= summary["total_seconds"]

    status = run(["status", "--json"], env)
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["paused"] is True and shown["reason"] == "storm" and shown["by"] == "cli"
    assert shown["moved"] == summary["moved"]

    again = run(["pause", "--reason", "storm", "--json"], env)
    assert again.returncode == 0 and json.loads(again.stdout)["already_paused"] is True

    resumed = run(["resume", "--restore", "original", "--json"], env)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["moved"] == summary["moved"]
    assert len(live(state(fast_sandbox))) == len(live(before))
    noop = run(["resume"], env)
    assert noop.returncode == 0 and "not paused" in noop.stdout


def test_clear_errors_and_exit_codes(fast_sandbox, database_url):
    env = environment(fast_sandbox, database_url)
    bad = run(["pause", "--reason", "x", "--strategy", "later"], env)
    assert bad.returncode == 2 and "shift or hold" in bad.stderr
    bad = run(["pause", "--reason", "x", "--horizon", "soon"], env)
    assert bad.returncode == 2 and "--horizon" in bad.stderr
    bad = run(["resume", "--restore", "maybe"], env)
    assert bad.returncode == 2 and "original or keep" in bad.stderr

    wrong = run(["pause", "--reason", "x"], {**env, "EMPAUSE_HOOTSUITE_CLIENT_SECRET": "nope"})
    assert wrong.returncode == 3 and "EMPAUSE_HOOTSUITE_CLIENT_SECRET" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    status = json.loads(run(["status", "--json"], env).stdout)
    assert status["paused"] is False  # nothing was touched: the failed pause is not in force

    missing = run(["pause", "--reason", "x"], {**env, "EMPAUSE_HOOTSUITE_CLIENT_ID": ""})
    assert missing.returncode == 2 and "EMPAUSE_HOOTSUITE_CLIENT_ID" in missing.stderr

    down = run(
        ["pause", "--reason", "x"], {**env, "EMPAUSE_HOOTSUITE_BASE_URL": "http://127.0.0.1:9"}
    )
    assert down.returncode == 4 and "connection refused" in down.stderr
    assert "Traceback" not in down.stderr
