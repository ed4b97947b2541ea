"""The sandbox and the app, each in a child process on loopback, for benchmarks that measure
the product as it runs (`empause sandbox`, `empause serve` on SQLite)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from empause.sandbox import seed
from empause.web.server import bind

EMPAUSE = str(Path(sys.executable).with_name("empause"))
SECRET = "bench-webhook-secret-4b1d-not-for-production"  # the webhook URL's path segment


def free_port() -> int:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    return port


def wait_ready(url: str, proc: subprocess.Popen, what: str, ok: tuple[int, ...]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code in ok:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{what} did not start")


def settings_env(workdir: Path, sandbox_url: str, app_port: int, rate_limit: float) -> dict:
    return {
        **os.environ,
        "EMPAUSE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'empause.db'}",
        "EMPAUSE_HOOTSUITE_BASE_URL": sandbox_url,
        "EMPAUSE_HOOTSUITE_CLIENT_ID": seed.CLIENT_ID,
        "EMPAUSE_HOOTSUITE_CLIENT_SECRET": seed.CLIENT_SECRET,
        "EMPAUSE_ORGANIZATION_ID": seed.ORG_ID,
        "EMPAUSE_EMERGENCY_TEAM_ID": seed.EM_TEAM_ID,
        "EMPAUSE_PUBLIC_URL": f"http://127.0.0.1:{app_port}",
        "EMPAUSE_WEBHOOK_SECRET": SECRET,
        "EMPAUSE_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
        "EMPAUSE_RATE_LIMIT": str(rate_limit or 1000),
    }


@dataclass(frozen=True)
class Running:
    sandbox_url: str
    app_url: str
    env: dict[str, str]
    workdir: Path


@contextmanager
def sandbox_and_app(
    prefix: str, sandbox_args: list[str], rate_limit: float = 20.0
) -> Iterator[Running]:
    """Start both (the sandbox seeded with `--seed demo` plus `sandbox_args`), wait until they
    answer, and stop them afterwards; their output goes to the workdir's processes.log."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    sandbox_port, app_port = free_port(), free_port()
    sandbox_url, app_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{app_port}"
    env = settings_env(workdir, sandbox_url, app_port, rate_limit)
    procs: list[subprocess.Popen[bytes]] = []
    with open(workdir / "processes.log", "w") as logs:
        try:
            procs.append(subprocess.Popen(
                [EMPAUSE, "sandbox", "--port", str(sandbox_port), "--seed", "demo",
                 *sandbox_args],
                stdout=logs, stderr=logs, env=env,
            ))  # fmt: skip
            wait_ready(f"{sandbox_url}/v1/me", procs[0], "the sandbox", (401,))
            procs.append(subprocess.Popen(
                [EMPAUSE, "serve", "--port", str(app_port)], stdout=logs, stderr=logs, env=env
            ))  # fmt: skip
            wait_ready(f"{app_url}/healthz", procs[1], "the app", (200,))
            yield Running(sandbox_url, app_url, env, workdir)
        finally:
            for proc in reversed(procs):
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
