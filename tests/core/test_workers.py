"""Workers as an operator runs them: `empause pause --no-wait` hands the pause to
`empause worker` processes; one SIGKILLed mid-operation is replaced by another, and the
sandbox's own record shows no loss, no duplicate and nothing published."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from benchmarks.chaos_soak import check
from sqlalchemy import text

from empause.domain.timeutil import parse_time
from empause.store.db import make_engine
from tests.engine.test_cli import _empause, environment, run

SECRETS = {
    "EMPAUSE_SECRET_KEY": "a-test-secret-key-of-more-than-thirty-two-characters",
    "EMPAUSE_WEBHOOK_SECRET": "a-test-webhook-secret-of-more-than-thirty-two-chars",
}
WINDOW = "40d"  # the seed spreads messages over 30 days: all in scope, copies beyond it
TAKEOVER_LIMIT = 15.0  # seconds, from the kill to the operation finished


@contextmanager
def workers(env: dict[str, str], count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = [
        subprocess.Popen(
            [_empause(), "worker", "--concurrency", "2"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _status(env: dict[str, str]) -> dict[str, Any]:
    done = run(["status", "--json"], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _wait(env: dict[str, str], limit: float, until: Any) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    while True:
        shown = _status(env)
        if until(shown):
            return shown, time.monotonic() - started
        assert time.monotonic() - started < limit, f"not reached in {limit} s: {shown}"
        time.sleep(0.2)


def _finished(shown: dict[str, Any]) -> bool:
    last = shown.get("last_operation") or {}
    return last.get("status") in ("done", "failed")


def test_pause_no_wait_is_run_by_a_worker(sandbox, database_url):
    sandbox.control.faults(rate_limit=200)
    env = {**environment(sandbox, database_url, **SECRETS), "EMPAUSE_RATE_LIMIT": "200"}
    with workers(env, 1):
        pressed = run(["pause", "--reason", "storm", "--no-wait", "--json"], env)
        assert pressed.returncode == 0, pressed.stderr
        answer = json.loads(pressed.stdout)
        assert isinstance(answer["operation"], int) and answer["already_paused"] is False
        assert _status(env)["paused"] is True  # recorded at once: the banner flips
        shown, _ = _wait(env, 60, _finished)
    last = shown["last_operation"]
    assert last["operation_id"] == answer["operation"] and last["status"] == "done"
    assert last["moved"] == last["in_scope"] > 0
    again = json.loads(run(["pause", "--reason", "x", "--no-wait", "--json"], env).stdout)
    assert again["operation"] == answer["operation"] and again["already_paused"] is True


async def _lock_holder(database_url: str) -> int | None:
    """The OS process holding an organization's lock (its connections name it)."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND a.application_name LIKE 'empause-%' LIMIT 1"
            ))  # fmt: skip
    finally:
        await engine.dispose()
    return int(found.removeprefix("empause-")) if found else None


def test_a_killed_workers_pause_is_finished_by_another(sandbox, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share their jobs through PostgreSQL")
    sandbox.control.reset(seed="demo", messages=60, rng=7)
    sandbox.control.faults(rate_limit=20)
    env = {**environment(sandbox, database_url, **SECRETS), "EMPAUSE_RATE_LIMIT": "20"}
    before = sandbox.control.state()
    start = parse_time(before["now"])
    with workers(env, 2) as procs:
        pressed = run(["pause", "--reason", "storm", "--horizon", WINDOW, "--shift", WINDOW,
                       "--no-wait", "--json"], env)  # fmt: skip
        assert pressed.returncode == 0, pressed.stderr
        pids = {p.pid for p in procs}
        deadline = time.monotonic() + 60
        victim = None
        while victim not in pids:
            assert time.monotonic() < deadline, "no worker took the pause"
            victim = asyncio.run(_lock_holder(database_url))
            time.sleep(0.1)
        time.sleep(1.0)  # mid-operation: some messages moved, most not yet
        assert not _finished(_status(env))
        os.kill(victim, signal.SIGKILL)
        shown, took = _wait(env, 60, _finished)
    print(f"finished {took:.1f} s after the SIGKILL")
    assert took < TAKEOVER_LIMIT
    assert shown["last_operation"]["status"] == "done"
    assert check(before, sandbox.control.state(), start, timedelta(days=40)) == []
