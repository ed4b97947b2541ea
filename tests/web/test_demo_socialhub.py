"""`empause demo --platform socialhub`: the SocialHub sandbox, the SMTP sink and the app start
together; a sign-in link requested on the dashboard is printed on the console, signs the
emergency-team member in, and the pause runs against the sandbox."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
from typer.testing import CliRunner

from empause.cli import app as cli
from empause.domain.timeutil import parse_time
from empause.sandbox.socialhub import seed as sh_seed
from empause.web.server import bind
from tests.web.helpers import client, csrf, wait_for
from tests.web.socialhub_app import LINK, use_link

READY = "Press Ctrl-C to stop."
HORIZON = timedelta(days=7)  # the demo's default
START_TIMEOUT = 60.0


def _free_port() -> int:
    sock = bind("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    sock.close()
    return port


class Console:
    """The demo's console, read line by line in a thread."""

    def __init__(self, process: subprocess.Popen[str]):
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        self._stdout = process.stdout
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._stdout:
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern[str] | str, timeout: float = START_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found.group(1) if found.groups() else line
        raise AssertionError(f"{pattern!r} never printed; console:\n{''.join(self.seen)}")


def test_demo_command_offers_the_platform_option():
    runner = CliRunner()
    assert "--platform" in runner.invoke(cli, ["demo", "--help"]).output
    assert runner.invoke(cli, ["demo", "--platform", "nope"]).exit_code == 2


def test_socialhub_demo_runs_the_whole_product(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMPAUSE_")}
    env["EMPAUSE_PUBLIC_URL"] = base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-c", "from empause.demo_socialhub import run; run(sandbox_port=0)"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        console = Console(process)
        sandbox = console.wait_for(r"SocialHub sandbox: (http://127\.0\.0\.1:\d+)")
        console.wait_for(READY)
        data = Path(os.environ["XDG_DATA_HOME"]) / "empause"
        assert (data / "empause-socialhub.db").exists()  # not the Hootsuite demo's file
        assert "Sign in with an email link" in httpx.get(base + "/").text
        answer = client(base).post("/auth/email", data={"email": sh_seed.EM_EMAIL})
        assert answer.status_code == 200
        link = console.wait_for(LINK, timeout=15)
        em, signed = use_link(link)
        assert signed.status_code == 303, signed.text
        answer = em.post(
            "/pause", data={"reason": "Storm", "confirm": "PAUSE", "strategy": "shift",
                            "csrf_token": csrf(em)},
        )  # fmt: skip
        assert answer.status_code == 303, answer.text
        wait_for(lambda: "PAUSED" in em.get("/").text, timeout=30)
        wait_for(lambda: 'id="op-status">done' in em.get("/").text, timeout=90)
        state = httpx.get(f"{sandbox}/_sandbox/state", timeout=15).json()
        now = parse_time(state["now"])
        scheduled = [parse_time(p["publishTime"]) for p in state["posts"]
                     if p["status"] == "scheduled"]  # fmt: skip
        assert scheduled and all(t >= now + HORIZON for t in scheduled)  # all moved out
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
