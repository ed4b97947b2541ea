"""Serving the SocialHub sandbox: `run` for the CLI (blocking) and `SocialHubSandboxServer`
for tests and benchmarks, on the same uvicorn options and threaded server as Hootsuite's."""

from __future__ import annotations

from typing import Any

import httpx
import uvicorn

from empause.sandbox.server import _OPTIONS
from empause.sandbox.socialhub import seed
from empause.sandbox.socialhub.app import SocialHubApp
from empause.sandbox.socialhub.control import SocialHubControl
from empause.sandbox.socialhub.state import SocialHubSandbox
from empause.sandbox.socialhub.world import World
from empause.serving import ThreadedServer


def run(
    host: str = "127.0.0.1",
    port: int = 8901,
    seed_name: str | None = None,
    posts: int = 300,
    latency_ms: float = 0,
    rate_limit: float = 20,
) -> None:
    """Serve until interrupted. `seed_name` turns on the /_sandbox/ control API."""
    sandbox = SocialHubSandbox(
        seed=seed_name, posts=posts, rate_limit=rate_limit, latency_ms=latency_ms,
        control=seed_name is not None,
    )  # fmt: skip
    base = f"http://{host}:{port}"
    print(f"SocialHub sandbox on {base}  (account {seed.ACCOUNT_ID}, {seed.ACCOUNT_NAME})")
    print(f"  account access token: {seed.ACCOUNT_TOKEN}  (?accesstoken=...)")
    print(f"  emergency team: {seed.EM_TEAM_ID}")
    for user in sandbox.world.users.values():
        print(f"  member: {user.email}  token {user.access_token}  user {user.id} ({user.role})")
    print("  control API: " + (f"{base}/_sandbox/" if sandbox.control else "off (use --seed demo)"))
    uvicorn.Server(uvicorn.Config(SocialHubApp(sandbox), host=host, port=port, **_OPTIONS)).run()


def _answers(base_url: str) -> bool:
    """The sandbox answers (401 without a token) once it is really up."""
    try:
        httpx.get(f"{base_url}/", timeout=5)
    except httpx.HTTPError:
        return False
    return True


class SocialHubSandboxServer:
    """A SocialHub sandbox on a loopback port in a background thread; a context manager."""

    def __init__(self, *, port: int = 0, **options: Any) -> None:
        """`port` 0 picks a free one; `options` are SocialHubSandbox's (seed, posts, rng...)."""
        self.sandbox = SocialHubSandbox(**options)
        self.control: SocialHubControl | None = None
        self._http = ThreadedServer(
            SocialHubApp(self.sandbox), port=port, name="socialhub-sandbox", ready=_answers,
            **_OPTIONS,
        )  # fmt: skip

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

    def start(self) -> SocialHubSandboxServer:
        self._http.start(timeout=15)
        self.control = SocialHubControl(self.base_url)
        return self

    def stop(self) -> None:
        self._http.stop(timeout=10)
        if self.control is not None:
            self.control.close()

    def __enter__(self) -> SocialHubSandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
