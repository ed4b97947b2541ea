"""uvicorn in a background thread on a loopback socket: the sandbox, the web app and the
test receiver all run this way (in tests, benchmarks and `make demo`).

Neutral ground, so that neither `empause.sandbox` nor `empause.web` imports the other.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Self

import uvicorn


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket, so the port is known before the app (and its settings) exist."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class ThreadedServer:
    """An ASGI app served by uvicorn in a daemon thread; use as a context manager.

    Listens on `sock` if given, else on a socket bound at `start()` to `host`:`port` (0 picks
    a free port). `start()` returns once uvicorn has started and, if given, `ready(base_url)`
    says True. Keyword arguments beyond these go to `uvicorn.Config`.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sock: socket.socket | None = None,
        name: str = "uvicorn",
        ready: Callable[[str], bool] | None = None,
        **uvicorn_config: Any,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.sock = sock
        self.name = name
        self.ready = ready
        self.uvicorn_config: dict[str, Any] = {
            "lifespan": "on",
            "access_log": False,
            **uvicorn_config,
        }
        self.base_url = ""
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        if sock is not None:
            self._bound(sock)

    def _bound(self, sock: socket.socket) -> None:
        host, self.port = sock.getsockname()[:2]
        self.base_url = f"http://{host}:{self.port}"

    def start(self, timeout: float = 15.0) -> Self:
        if self.sock is None:
            self.sock = bind(self.host, self.port)
            self._bound(self.sock)
        self.server = uvicorn.Server(uvicorn.Config(self.app, **self.uvicorn_config))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name=self.name, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not (self.server.started and (self.ready is None or self.ready(self.base_url))):
            if not self.thread.is_alive():
                raise RuntimeError(f"{self.name} stopped during start-up (see the log)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not become ready within {timeout} s")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout)
        if self.sock is not None:
            self.sock.close()
        self.server = self.thread = self.sock = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
