"""Serving the sandbox: `run` for the CLI (blocking) and `SandboxServer` for tests/benchmarks.

Always on 127.0.0.1 by default; uvicorn with httptools + uvloop for throughput.
"""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn

from empause.sandbox.app import SandboxApp
from empause.sandbox.control import SandboxControl
from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, DEMO_PASSWORD, ORG_ID
from empause.sandbox.state import Sandbox
from empause.sandbox.world import World


def _config(app: SandboxApp, **kwargs) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http="httptools",
        loop="uvloop",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
        **kwargs,
    )


def run(
    host: str = "127.0.0.1",
    port: int = 8900,
    seed: str | None = None,
    messages: int = 300,
    latency_ms: float = 0,
    rate_limit: float = 20,
) -> None:
    """Serve until interrupted. `seed` turns on the /_sandbox/ control API."""
    sandbox = Sandbox(
        seed=seed, messages=messages, rate_limit=rate_limit, latency_ms=latency_ms,
        control=seed is not None,
    )
    base = f"http://{host}:{port}"
    print(f"Hootsuite sandbox on {base}  (organization {ORG_ID})")
    print(f"  OAuth client: {CLIENT_ID} / {CLIENT_SECRET} (HTTP Basic)")
    for member in sandbox.world.members.values():
        flag = " (needs approval)" if member.needs_approval else ""
        print(f"  sign in: {member.email} / {DEMO_PASSWORD}  member {member.id}{flag}")
    print("  control API: " + (f"{base}/_sandbox/" if sandbox.control else "off (use --seed demo)"))
    uvicorn.Server(_config(SandboxApp(sandbox), host=host, port=port)).run()


class SandboxServer:
    """A sandbox on a loopback port in a background thread; use as a context manager."""

    def __init__(
        self,
        seed: str | None = "demo",
        messages: int = 300,
        rng: int = 7,
        rate_limit: float = 20,
        latency_ms: float = 0,
        token_ttl: int = 3599,
        control: bool = True,
        port: int = 0,
    ) -> None:
        self.sandbox = Sandbox(
            seed=seed, messages=messages, rng=rng, rate_limit=rate_limit,
            latency_ms=latency_ms, token_ttl=token_ttl, control=control,
        )
        self.port = port
        self.base_url = ""
        self.control: SandboxControl | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def world(self) -> World:
        """In-process view of the world (read-only outside the server thread, please)."""
        return self.sandbox.world

    def start(self) -> SandboxServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(_config(SandboxApp(self.sandbox)))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="hootsuite-sandbox",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Hootsuite sandbox did not start")
            time.sleep(0.01)
        httpx.get(f"{self.base_url}/v1/me", timeout=5)  # answers (401) once really up
        self.control = SandboxControl(self.base_url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.control is not None:
            self.control.close()
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
