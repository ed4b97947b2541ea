"""Running the app with uvicorn: in the foreground (`empause serve`) or in a thread."""

from __future__ import annotations

import socket
from typing import Self

import httpx
import uvicorn
from fastapi import FastAPI

from empause.serving import ThreadedServer, bind
from empause.web import logs

__all__ = ["ServerThread", "bind", "run"]


def run(host: str = "127.0.0.1", port: int = 8000, background: bool = True) -> None:
    """`empause serve`: JSON logs, graceful shutdown on Ctrl-C / SIGTERM."""
    from empause.web.app import create_app

    logs.configure()
    uvicorn.run(
        create_app(background=background),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        proxy_headers=False,
    )


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


class ServerThread(ThreadedServer):
    """The web app in a background thread on a pre-bound socket; ready once /healthz says 200."""

    def __init__(self, app: FastAPI, sock: socket.socket):
        super().__init__(
            app,
            sock=sock,
            name="empause-web",
            ready=_healthy,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=3,
        )

    def start(self, timeout: float = 30.0) -> Self:
        return super().start(timeout)
