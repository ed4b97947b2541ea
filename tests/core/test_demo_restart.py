"""`empause demo` as a newcomer runs it: stopped mid-pause, started again, resumed.

The demo runs as a child process on free ports with its own data directory (XDG_DATA_HOME,
which platformdirs follows), so it never meets another demo or the user's own database; the
CLI runs from another directory with no EMPAUSE_DATABASE_URL and finds the demo's database.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx

from empause.serving import bind

EMPAUSE = str(Path(sys.executable).with_name("empause"))
START_TIMEOUT = 90  # two busy cores can make start-up slow


def free_port() -> int:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    return port


def clean_env(xdg: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPAUSE_")}
    return {**env, "XDG_DATA_HOME": str(xdg), "PYTHONUNBUFFERED": "1"}


@contextmanager
def demo(env: dict[str, str], port: int, sandbox_port: int, *extra: str) -> Iterator[str]:
    """A running demo; yields the sandbox's base URL; SIGTERM on exit."""
    log = Path(env["XDG_DATA_HOME"]) / f"demo-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [EMPAUSE, "demo", "--port", str(port), "--sandbox-port", str(sandbox_port), *extra],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=env["XDG_DATA_HOME"],
        )  # fmt: skip
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "demo is running" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the demo did not start: {log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield sandbox
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(
                f"SIGTERM did not stop the demo: {log.read_text()[-3000:]}"
            ) from None


def cli(env: dict[str, str], cwd: Path, *args: str, **more_env: str) -> dict:
    done = subprocess.run(
        [EMPAUSE, *args, "--json"], capture_output=True, text=True, timeout=120,
        env={**env, **more_env}, cwd=cwd,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def world(sandbox: str) -> list[dict]:
    return httpx.get(f"{sandbox}/_sandbox/state", timeout=30).json()["messages"]


def live(messages: list[dict]) -> Counter:
    """Every live message, by what makes it the same post (not its id)."""
    return Counter(
        (m["socialProfile"]["id"], m["text"], m["scheduledSendTime"])
        for m in messages
        if not m["deleted"]
    )


def test_a_demo_stopped_mid_pause_resumes_without_a_duplicate(tmp_path):
    xdg = tmp_path / "data"
    xdg.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(xdg)
    port, sandbox_port = free_port(), free_port()
    with demo(env, port, sandbox_port) as sandbox:
        before = world(sandbox)
        begun = cli(env, elsewhere, "pause", "--reason", "storm", "--no-wait")
        assert begun["operation"] and not begun["already_paused"]
        deadline = time.monotonic() + 60
        while sum(m["deleted"] for m in world(sandbox)) < 5:  # mid-pause: some moved
            assert time.monotonic() < deadline, "the demo's worker did not take the pause up"
            time.sleep(0.05)
    world_file = xdg / "empause" / "empause.sandbox.json"
    assert world_file.is_file(), "the sandbox's world is kept next to the database"
    saved = json.loads(world_file.read_text())["world"]["messages"]
    assert 5 <= sum(m["deleted"] for m in saved), "the stop kept what was done"

    # From another directory, no EMPAUSE_DATABASE_URL: the CLI reads the demo's database.
    status = cli(env, elsewhere, "status")
    assert status["paused"] is True
    assert status["database"] == str(xdg / "empause" / "empause.db")
    assert status["organization_id"] == "832420"

    with demo(env, port, sandbox_port) as sandbox:
        deadline = time.monotonic() + 120
        while cli(env, elsewhere, "status")["last_operation"]["status"] != "done":
            assert time.monotonic() < deadline, "the interrupted pause did not finish"
            time.sleep(0.5)
        paused = world(sandbox)
        moved = [m for m in paused if m["deleted"]]
        assert len(moved) >= 5
        resumed = cli(env, elsewhere, "resume", EMPAUSE_HOOTSUITE_BASE_URL=sandbox)
        assert resumed["failed"] == 0
        after = world(sandbox)
    # Every original is back at its time, once: no duplicate, nothing lost.
    assert live(after) == live(before)
    human = subprocess.run([EMPAUSE, "status"], capture_output=True, text=True, env=env,
                           cwd=elsewhere, timeout=60)  # fmt: skip
    assert f"organization 832420 in {xdg / 'empause' / 'empause.db'}" in human.stdout
    assert "not paused" in human.stdout


def test_reset_starts_afresh_a_database_without_its_world_is_refused_and_two_run_side_by_side(
    tmp_path,
):
    data = tmp_path / "demo-data"
    data.mkdir()
    # A database that has paused, whose sandbox world is gone: they could disagree.
    with closing(sqlite3.connect(data / "empause.db")) as database:
        database.execute("CREATE TABLE operations (id INTEGER PRIMARY KEY)")
        database.execute("INSERT INTO operations VALUES (1)")
        database.commit()
    env = clean_env(tmp_path)
    port, sandbox_port = free_port(), free_port()
    refused = subprocess.run(
        [EMPAUSE, "demo", "--port", str(port), "--sandbox-port", str(sandbox_port),
         "--data-dir", str(data)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2 and "--reset" in refused.stderr
    other = tmp_path / "other-demo"
    with demo(env, port, sandbox_port, "--data-dir", str(data), "--reset") as sandbox:
        assert sum(not m["deleted"] for m in world(sandbox)) >= 300
        # A second demo side by side: its own ports and folder, its own world.
        with demo(env, free_port(), free_port(), "--data-dir", str(other)) as second:
            httpx.post(f"{second}/_sandbox/clock", json={"advance_seconds": 60}, timeout=30)
            assert world(second) and second != sandbox
        assert (other / "empause.db").is_file() and (other / "empause.sandbox.json").is_file()
        assert sum(not m["deleted"] for m in world(sandbox)) >= 300  # the first carries on
    assert (data / "empause.sandbox.json").is_file()
