"""The real web app (create_app) receives the sandbox's webhooks and its worker decides."""

from __future__ import annotations

from typing import Any

from empause.store.db import Database
from tests.prescreen.harness import eventually
from tests.prescreen.scenario import decided, sandbox_message, write_message


async def test_the_app_receives_sandbox_webhooks_and_prescreens(app_server: Any) -> None:
    settings = app_server.settings
    control = app_server.sandbox.control
    control.register_webhook(f"{app_server.base_url}/webhooks/hootsuite/{settings.webhook_secret}")
    db = Database(settings.database_url)
    try:
        message = write_message(control)
        await eventually(lambda: decided(db, message["id"], "approved"))
        assert sandbox_message(control, message["id"])["state"] == "SCHEDULED"
    finally:
        await db.dispose()
