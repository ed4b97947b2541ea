"""A timed pause as an operator runs it: `empause pause --until 20s --no-wait` with two
`empause worker` processes on PostgreSQL resumes by itself, exactly once, recorded as the
timer set by whoever pressed pause; the timer is a job in the database, so it also fires
when the workers that were running when it was set are gone (a restart)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import text

from empause.store.db import make_engine
from tests.core.test_workers import SECRETS, _finished, _status, _wait, workers
from tests.engine.test_cli import environment, run

UNTIL = 20  # seconds, as the acceptance test says


async def _operations(database_url: str, kind: str) -> int:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(
                text("SELECT count(*) FROM operations WHERE kind = :kind"), {"kind": kind}
            ) or 0)  # fmt: skip
    finally:
        await engine.dispose()


def _postgres(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the timer job and several workers need PostgreSQL")


def test_until_20s_resumes_itself_once_with_two_workers(sandbox, database_url):
    _postgres(database_url)
    sandbox.control.reset(seed="demo", messages=40, rng=7)
    sandbox.control.faults(rate_limit=1000)
    env = {**environment(sandbox, database_url, **SECRETS), "EMPAUSE_RATE_LIMIT": "200"}
    with workers(env, 2):
        pressed = run(["pause", "--reason", "storm", "--until", f"{UNTIL}s", "--by", "em-lead",
                       "--no-wait", "--json"], env)  # fmt: skip
        assert pressed.returncode == 0, pressed.stderr
        answer = json.loads(pressed.stdout)
        assert answer["ends_at"]
        pressed_at = time.monotonic()
        shown = _status(env)
        assert shown["paused"] and shown["ends_at"] == answer["ends_at"]
        shown, _ = _wait(env, 60, lambda s: s["paused"] and _finished(s))
        assert shown["last_operation"]["moved"] > 0
        shown, _ = _wait(env, UNTIL + 30, lambda s: not s["paused"] and _finished(s))
        took = time.monotonic() - pressed_at
        time.sleep(3)  # the other worker and the periodic check had their chance
        shown = _status(env)
    print(f"resumed {took:.1f} s after pressing pause --until {UNTIL}s")
    assert UNTIL - 1 <= took <= UNTIL + 15
    last = shown["last_operation"]
    assert last["kind"] == "resume" and last["status"] == "done"
    assert last["requested_by"] == "timer (set by em-lead)" and last["restore"] == "original"
    assert asyncio.run(_operations(database_url, "resume")) == 1
    assert asyncio.run(_operations(database_url, "pause")) == 1


def test_the_timer_survives_a_restart_and_can_be_moved(sandbox, database_url):
    _postgres(database_url)
    sandbox.control.reset(seed="demo", messages=20, rng=7)
    sandbox.control.faults(rate_limit=1000)
    env = {**environment(sandbox, database_url, **SECRETS), "EMPAUSE_RATE_LIMIT": "200"}
    with workers(env, 1):
        pressed = run(["pause", "--reason", "storm", "--until", "1h", "--no-wait", "--json"], env)
        assert pressed.returncode == 0, pressed.stderr
        _wait(env, 60, lambda s: s["paused"] and _finished(s))
    # Every worker is gone; the end is shortened meanwhile (a new job in the database).
    moved = run(["pause-end", "--until", "5s", "--json"], env)
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["ends_at"] != json.loads(pressed.stdout)["ends_at"]
    time.sleep(6)  # it is due while no worker runs
    assert _status(env)["paused"] is True
    with workers(env, 1):  # a restart: the job waiting in the database fires
        shown, took = _wait(env, 30, lambda s: not s["paused"] and _finished(s))
    print(f"resumed {took:.1f} s after the workers restarted")
    assert shown["last_operation"]["kind"] == "resume"
    assert asyncio.run(_operations(database_url, "resume")) == 1
    assert run(["pause-end", "--cancel"], env).returncode == 2  # not paused: a clear error
