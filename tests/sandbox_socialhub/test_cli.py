"""`empause sandbox --platform socialhub` as a user runs it: a child process on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from empause.sandbox.socialhub import seed
from empause.serving import bind

EMPAUSE = str(Path(sys.executable).with_name("empause"))


def free_port() -> int:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_the_cli_serves_the_socialhub_sandbox():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [EMPAUSE, "sandbox", "--platform", "socialhub", "--port", str(port), "--seed", "demo",
         "--posts", "40", "--latency-ms", "20", "--rate-limit", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60  # two busy cores can make start-up slow
        while True:
            try:
                state = httpx.get(f"{base}/_sandbox/state", timeout=5).json()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise AssertionError(f"no sandbox: {proc.communicate()[0]}") from None
                time.sleep(0.1)
        assert sum(p["status"] == "scheduled" for p in state["posts"]) == 40
        assert state["rate_limit"] == 50 and state["faults"]["latency_ms"] == 20
        assert state["demo"]["access_token"] == seed.ACCOUNT_TOKEN
        me = httpx.get(f"{base}/", params={"accesstoken": seed.EM_TOKEN}).json()
        assert me["userId"] == seed.EM_USER_ID
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    assert "SocialHub sandbox on" in output and seed.EM_EMAIL in output


def test_an_unknown_platform_is_refused():
    done = subprocess.run([EMPAUSE, "sandbox", "--platform", "myspace"], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0 and "hootsuite or socialhub" in done.stdout + done.stderr
