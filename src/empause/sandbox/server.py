"""Serving the sandbox: `run` for the CLI (blocking) and `SandboxServer` for tests/benchmarks.

Always on 127.0.0.1 by default; uvicorn with httptools + uvloop for throughput.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import uvicorn

from empause.sandbox.app import SandboxApp
from empause.sandbox.control import SandboxControl
from empause.sandbox.persist import StateFile
from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, DEMO_PASSWORD
from empause.sandbox.state import Sandbox
from empause.sandbox.view import PLANNER_PATH
from empause.sandbox.world import World
from empause.serving import ThreadedServer

_OPTIONS: dict[str, Any] = {
    "http": "httptools",
    "loop": "uvloop",
    "lifespan": "on",
    "log_level": "warning",
    "access_log": False,
    "timeout_graceful_shutdown": 1,
    "timeout_keep_alive": 30,
}


def run(
    host: str = "127.0.0.1",
    port: int = 8900,
    seed: str | None = None,
    messages: int = 300,
    latency_ms: float = 0,
    rate_limit: float = 20,
    organizations: int = 1,
) -> None:
    """Serve until interrupted. `seed` turns on the /_sandbox/ control API."""
    sandbox = Sandbox(
        seed=seed,
        messages=messages,
        rate_limit=rate_limit,
        latency_ms=latency_ms,
        control=seed is not None,
        organizations=organizations,
    )
    base = f"http://{host}:{port}"
    orgs = ", ".join(sandbox.world.organizations)
    print(f"Hootsuite sandbox on {base}  (organization{'s' * (organizations > 1)} {orgs})")
    print(f"  OAuth client: {CLIENT_ID} / {CLIENT_SECRET} (HTTP Basic)")
    for member in sandbox.world.members.values():
        flag = " (needs approval)" if member.needs_approval else ""
        print(f"  sign in: {member.email} / {DEMO_PASSWORD}  member {member.id}{flag}")
    print("  control API: " + (f"{base}/_sandbox/" if sandbox.control else "off (use --seed demo)"))
    if sandbox.control:
        print(f"  planner: {base}{PLANNER_PATH} (messages by day and profile; post as any member)")
    uvicorn.Server(uvicorn.Config(SandboxApp(sandbox), host=host, port=port, **_OPTIONS)).run()


def _answers(base_url: str) -> bool:
    """The sandbox answers (401 without a token) once it is really up."""
    try:
        httpx.get(f"{base_url}/v1/me", timeout=5)
    except httpx.HTTPError:
        return False
    return True


class SandboxServer:
    """A sandbox on a loopback port in a background thread; use as a context manager."""

    def __init__(self, *, port: int = 0, state_path: Path | None = None, **options: Any) -> None:
        """`port` 0 picks a free one; `options` are Sandbox's (seed, messages, rng, ...).
        With `state_path`, the world is loaded from that file if it exists (else seeded and
        saved there) and every change is saved to it (see persist.py)."""
        self.sandbox = Sandbox(**options)
        self.restored = False
        if state_path is not None:
            state_file = StateFile(state_path)
            if state_file.exists():
                state_file.load(self.sandbox)
                self.restored = True
            else:
                state_file.save(self.sandbox)
            self.sandbox.state_file = state_file
        self.control: SandboxControl | None = None
        self._http = ThreadedServer(
            SandboxApp(self.sandbox),
            port=port,
            name="hootsuite-sandbox",
            ready=_answers,
            **_OPTIONS,
        )

    @property
    def world(self) -> World:
        """In-process view of the world (read-only outside the server thread, please)."""
        return self.sandbox.world

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def start(self) -> SandboxServer:
        self._http.start(timeout=15)
        self.control = SandboxControl(self.base_url)
        return self

    def stop(self) -> None:
        self._http.stop(timeout=10)
        if self.control is not None:
            self.control.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
