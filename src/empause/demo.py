"""`make demo`: the seeded Hootsuite sandbox and the app together, on SQLite, one command.

The sandbox listens on 8900, the app on EMPAUSE_PUBLIC_URL's port (8000 by default); the
sandbox posts its webhooks to the app. Ctrl-C stops both.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from empause.config import demo_stream_settings, get_settings, with_demo_secrets
from empause.sandbox import seed
from empause.sandbox.server import SandboxServer
from empause.sandbox.view import PLANNER_PATH
from empause.web import logs
from empause.web.app import create_app
from empause.web.server import ServerThread, bind

SANDBOX_PORT = 8900
MESSAGES = 300
STREAM_NAME = "Emergency Pause"


def sandbox_dashboard_origin(port: int) -> str:
    """The sandbox dashboard's origin: `localhost`, another site than the app's 127.0.0.1,
    so the stream is a cross-site iframe as inside Hootsuite."""
    return f"http://localhost:{port}"


def run(sandbox_port: int = SANDBOX_PORT, messages: int = MESSAGES) -> None:
    logs.configure()
    base = with_demo_secrets(get_settings())
    app_url = urlsplit(base.public_url)
    app_port = app_url.port or 8000
    with SandboxServer(seed="demo", messages=messages, port=sandbox_port) as sandbox:
        # The demo always talks to its own sandbox, with the demo app's credentials.
        settings = base.model_copy(
            update={
                "hootsuite_base_url": sandbox.base_url,
                "hootsuite_client_id": seed.CLIENT_ID,
                "hootsuite_client_secret": seed.CLIENT_SECRET,
                "organization_id": seed.ORG_ID,
                "emergency_team_id": seed.EM_TEAM_ID,
                # The sandbox's dashboard frames the app stream from another site (localhost
                # against the app's 127.0.0.1), as Hootsuite's does, and serves its hsp.js.
                **demo_stream_settings(sandbox_dashboard_origin(sandbox.port)),
            }
        )
        sock = bind(app_url.hostname or "127.0.0.1", app_port)
        with ServerThread(create_app(settings), sock):
            public = settings.public_url.rstrip("/")
            assert sandbox.control is not None
            sandbox.control.register_redirect_uri(f"{public}/auth/callback")
            sandbox.control.register_webhook(
                f"{public}/webhooks/hootsuite/{settings.webhook_secret}"
            )
            sandbox.control.install_app_stream(
                STREAM_NAME, f"{public}/hootsuite/stream", settings.hootsuite_app_secret
            )
            hootsuite_dashboard = f"{sandbox_dashboard_origin(sandbox.port)}/dashboard"
            print(
                "\n  Emergency Pause demo is running\n"
                f"    dashboard:         {public}/\n"
                f"    Hootsuite sandbox: {sandbox.base_url} ({messages} scheduled messages)\n"
                f"    sandbox planner:   {sandbox.base_url}{PLANNER_PATH}"
                " (watch posts move during a pause; post as staff)\n"
                f"    app stream inside the sandbox's Hootsuite dashboard: {hootsuite_dashboard}\n"
                f"    database:          {settings.database_url}\n\n"
                "  Sign in with Hootsuite as:\n"
                f"    {seed.EM_EMAIL:<20} password {seed.DEMO_PASSWORD}  (emergency team: controls)\n"
                f"    {seed.STAFF_EMAIL:<20} password {seed.DEMO_PASSWORD}  (staff: read-only)\n\n"
                "  Press Ctrl-C to stop both.\n",
                flush=True,
            )
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                print("\n  stopping…", flush=True)
