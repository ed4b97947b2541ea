"""Profile names on the dashboard come from the platform, cached, and never break the page."""

from __future__ import annotations

import socket

from empause.platforms.hootsuite.adapter import HootsuitePlatform
from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, ORG_ID, PROFILE_IDS
from empause.web.profiles import ProfileNames


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_names_are_cached_and_an_unreachable_platform_yields_ids(sandbox):
    now = [0.0]
    platform = HootsuitePlatform(sandbox.base_url, CLIENT_ID, CLIENT_SECRET, ORG_ID)
    names = ProfileNames(platform, ttl=600, clock=lambda: now[0])
    try:
        first = await names.get()
        assert set(first) == set(PROFILE_IDS)
        calls = sandbox.control.state()["calls"].get("GET /v1/socialProfiles")
        now[0] = 599
        assert await names.get() == first
        assert sandbox.control.state()["calls"].get("GET /v1/socialProfiles") == calls
    finally:
        await platform.aclose()

    down = HootsuitePlatform(
        f"http://127.0.0.1:{closed_port()}", CLIENT_ID, CLIENT_SECRET, ORG_ID, timeout=1.0
    )
    try:
        assert await ProfileNames(down, timeout=5).get() == {}  # the page shows ids instead
    finally:
        await down.aclose()
