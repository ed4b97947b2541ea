"""Helpers for sandbox tests: authenticated httpx clients and time math on the sandbox clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from empause.domain.timeutil import format_time, parse_time
from empause.sandbox.seed import EM_MEMBER_ID
from empause.sandbox.server import SandboxServer


@pytest.fixture
def client_for(sandbox: SandboxServer) -> Iterator[Callable[..., httpx.Client]]:
    """Build httpx clients authenticated as a member (or the organization)."""
    clients: list[httpx.Client] = []

    def make(member_id: str | None = EM_MEMBER_ID, organization: bool = False) -> httpx.Client:
        token = (
            sandbox.control.token(organization_id="832420")
            if organization
            else sandbox.control.token(member_id)
        )
        client = httpx.Client(
            base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def em(client_for) -> httpx.Client:
    return client_for()


@pytest.fixture
def org(client_for) -> httpx.Client:
    return client_for(organization=True)


def sandbox_now(sandbox: SandboxServer) -> datetime:
    return parse_time(sandbox.control.clock()["now_precise"])


def later(sandbox: SandboxServer, **delta: float) -> str:
    return format_time(sandbox_now(sandbox) + timedelta(**delta))
