"""The app finishes, at start-up, an operation that a previous process left unfinished."""

from __future__ import annotations

import asyncio

from empause.sandbox import seed
from empause.store.db import Database
from empause.store.models import Operation
from empause.web.app import create_app
from empause.web.server import ServerThread, bind
from tests.fixtures.app import app_settings
from tests.web.helpers import api_status, client, create_api_key, settled, signed_in, wait_for


def _server(sandbox, database_url, **overrides):
    sock = bind()
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = app_settings(sandbox.base_url, database_url, public_url).model_copy(
        update=overrides
    )
    sandbox.control.register_redirect_uri(f"{public_url}/auth/callback")
    return ServerThread(create_app(settings), sock)


async def _operation_status(database_url: str, operation_id: int) -> str:
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            return (await session.get(Operation, operation_id)).status
    finally:
        await db.dispose()


def test_an_interrupted_pause_finishes_after_a_restart(sandbox, database_url):
    sandbox.control.reset(seed="demo", messages=40, rng=7)
    sandbox.control.faults(rate_limit=1000, latency_ms=400)
    with _server(sandbox, database_url, concurrency=1) as first:
        key = create_api_key(signed_in(first.base_url, seed.EM_EMAIL))
        api = client(first.base_url)
        api.headers["Authorization"] = f"Bearer {key}"
        assert api.post("/api/pause", json={"reason": "Interrupted"}).status_code == 202
        interrupted = wait_for(
            lambda: (op := api_status(first.base_url, key)["operation"]) and op["moved"] >= 1 and op
        )
        assert interrupted["running"]
    # Stopped mid-way: its operations were cancelled after the grace period.
    assert asyncio.run(_operation_status(database_url, interrupted["id"])) == "running"
    sandbox.control.faults(latency_ms=0)
    with _server(sandbox, database_url) as second:
        status = wait_for(lambda: (s := api_status(second.base_url, key)) and settled(s) and s)
    op = status["operation"]
    assert op["id"] == interrupted["id"] and op["status"] == "done"
    assert op["moved"] == op["in_scope"] > interrupted["moved"]
    assert status["paused"]
