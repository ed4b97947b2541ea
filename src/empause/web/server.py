"""Running the app with uvicorn: in the foreground (`empause serve`) or in a thread."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn
from fastapi import FastAPI

from empause.web import logs


def run(host: str = "127.0.0.1", port: int = 8000) -> None:
    """`empause serve`: JSON logs, graceful shutdown on Ctrl-C / SIGTERM."""
    from empause.web.app import create_app

    logs.configure()
    uvicorn.run(
        create_app(),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        proxy_headers=False,
    )


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket, so the port is known before the app (and its settings) exist."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class ServerThread:
    """uvicorn in a background thread on a pre-bound socket; ready once /healthz says 200."""

    def __init__(self, app: FastAPI, sock: socket.socket):
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        config = uvicorn.Config(
            app, log_config=None, access_log=False, timeout_graceful_shutdown=3, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True, name="empause-web"
        )

    def start(self, timeout: float = 30.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                raise RuntimeError("the web app stopped during start-up (see the log)")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the web app did not become ready within {timeout} s")

    def stop(self, timeout: float = 15.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
