"""Prescreening fixtures: a Hootsuite sandbox that really emits webhooks to a running
receiver (the real router and worker) on a loopback port, with a real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.prescreen.harness import ReceiverServer, make_settings


@pytest.fixture
def hootsuite(sandbox: Any) -> Any:
    """The shared sandbox, under the name these tests read best with."""
    return sandbox


@pytest.fixture
def start_receiver(hootsuite: Any, database_url: str) -> Iterator[Callable[..., ReceiverServer]]:
    """Start a receiver with settings overrides, registered as the sandbox's callback URL."""
    started: list[ReceiverServer] = []

    def start(register: bool = True, **overrides: Any) -> ReceiverServer:
        settings = make_settings(database_url, hootsuite.base_url, **overrides)
        server = ReceiverServer(settings, poll_interval=0.5).start()
        started.append(server)
        if register:
            hootsuite.control.register_webhook(server.webhook_url)
        return server

    yield start
    for server in started:
        server.stop()
