"""`make demo`: the seeded Hootsuite sandbox and the app together, on SQLite, one command.

The sandbox listens on 8900 (`--sandbox-port`), the app on EMPAUSE_PUBLIC_URL's port (8000
by default, `--port`); the sandbox posts its webhooks to the app. Ctrl-C or SIGTERM stops
both.

Stopped and started again, the demo carries on where it was: the app's database and the
sandbox's world live side by side in one folder (`--data-dir`, by default the user's data
directory, where the CLI looks too) and the sandbox saves every change before answering
(sandbox/persist.py), so a demo stopped mid-pause finishes the pause when it starts again
and resumes without a duplicate. `--reset` deletes both and seeds afresh.
"""

from __future__ import annotations

import signal
import sqlite3
import sys
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from empause.config import (
    DATABASE_FILE,
    Settings,
    demo_stream_settings,
    get_settings,
    sqlite_url,
    user_data_dir,
    with_demo_secrets,
)
from empause.sandbox import seed
from empause.sandbox.persist import StateFileError
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


class DemoError(RuntimeError):
    """The demo cannot start as asked; the message says what to do."""


@dataclass(frozen=True)
class DemoFiles:
    """Where one demo keeps its state: the database and, next to it, the sandbox's world."""

    database_url: str
    sandbox_state: Path
    database_file: Path | None  # None: not a SQLite file (e.g. PostgreSQL)

    @classmethod
    def choose(cls, settings: Settings, data_dir: Path | None) -> DemoFiles:
        """`--data-dir` wins; else EMPAUSE_DATABASE_URL if set; else the user's data dir."""
        if data_dir is None and "database_url" in settings.model_fields_set:
            url = settings.database_url
        else:
            url = sqlite_url((data_dir or user_data_dir()) / DATABASE_FILE)
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            database = Path(str(parsed.database)).expanduser().resolve()
            return cls(url, database.with_name(f"{database.stem}.sandbox.json"), database)
        return cls(url, (data_dir or user_data_dir()) / "sandbox.json", None)

    def reset(self) -> None:
        """Delete both: the next start seeds the sandbox and creates the database afresh."""
        if self.database_file is None:
            raise DemoError(
                "--reset deletes the demo's SQLite database; with EMPAUSE_DATABASE_URL "
                "pointing elsewhere, empty that database yourself or use --data-dir"
            )
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.database_file}{suffix}").unlink(missing_ok=True)
        self.sandbox_state.unlink(missing_ok=True)

    def check(self) -> str | None:
        """Refuse a database without its sandbox (they would disagree); forget a sandbox
        without its database (nothing to agree with). Returns a note to print, if any."""
        has_state = self.sandbox_state.is_file()
        if self.database_file is None:
            return None
        has_database = self.database_file.is_file()
        if has_database and not has_state:
            if _never_operated(self.database_file):
                return "the database beside it had never paused: the sandbox seeded afresh"
            raise DemoError(
                f"the database {self.database_file} exists but the sandbox's world "
                f"({self.sandbox_state}) does not, so they could disagree (a pause the sandbox "
                "never saw); start afresh with `empause demo --reset`, or choose another "
                "folder with --data-dir"
            )
        if has_state and not has_database:
            self.sandbox_state.unlink()
            return "the sandbox's saved world had no database beside it: seeded afresh"
        return None


def _never_operated(database: Path) -> bool:
    """No pause or resume was ever recorded there (an empty or freshly migrated database, as
    `empause status` leaves it): a fresh sandbox cannot disagree with it."""
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
            (count,) = connection.execute("SELECT count(*) FROM operations").fetchone()
    except sqlite3.OperationalError as exc:
        return "no such table" in str(exc)
    except sqlite3.DatabaseError:
        return False
    return int(count) == 0


def _stop_on_sigterm() -> None:
    """SIGTERM stops the demo as Ctrl-C does (servers shut down, state saved)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def run(
    sandbox_port: int = SANDBOX_PORT,
    messages: int = MESSAGES,
    port: int | None = None,
    data_dir: Path | None = None,
    reset: bool = False,
) -> None:
    logs.configure()
    _stop_on_sigterm()
    base = with_demo_secrets(get_settings())
    files = DemoFiles.choose(base, data_dir)
    try:
        if reset:
            files.reset()
        note = files.check()
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from exc
    if files.database_file is not None:
        files.database_file.parent.mkdir(parents=True, exist_ok=True)
    app_url = urlsplit(base.public_url)
    app_host = app_url.hostname or "127.0.0.1"
    app_port = port or app_url.port or 8000
    public_url = f"{app_url.scheme or 'http'}://{app_host}:{app_port}"
    try:
        sandbox_server = SandboxServer(
            seed="demo", messages=messages, port=sandbox_port, state_path=files.sandbox_state
        )
    except StateFileError as exc:
        print(f"error: {exc}; start afresh with `empause demo --reset`", file=sys.stderr)
        raise SystemExit(2) from exc
    with sandbox_server as sandbox:
        # The demo always talks to its own sandbox, with the demo app's credentials.
        settings = base.model_copy(
            update={
                "hootsuite_base_url": sandbox.base_url,
                "hootsuite_client_id": seed.CLIENT_ID,
                "hootsuite_client_secret": seed.CLIENT_SECRET,
                "database_url": files.database_url,
                "public_url": public_url,
                "organization_id": seed.ORG_ID,
                "emergency_team_id": seed.EM_TEAM_ID,
                # The sandbox's dashboard frames the app stream from another site (localhost
                # against the app's 127.0.0.1), as Hootsuite's does, and serves its hsp.js.
                **demo_stream_settings(sandbox_dashboard_origin(sandbox.port)),
            }
        )
        sock = bind(app_host, app_port)
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
            world = (
                f"carried on from {files.sandbox_state}"
                if sandbox_server.restored
                else f"{messages} scheduled messages, saved in {files.sandbox_state}"
            )
            if note:
                print(f"  note: {note}", flush=True)
            print(
                "\n  Emergency Pause demo is running\n"
                f"    dashboard:         {public}/\n"
                f"    Hootsuite sandbox: {sandbox.base_url} ({world})\n"
                f"    sandbox planner:   {sandbox.base_url}{PLANNER_PATH}"
                " (watch posts move during a pause; post as staff)\n"
                f"    app stream inside the sandbox's Hootsuite dashboard: {hootsuite_dashboard}\n"
                f"    database:          {settings.database_url}\n\n"
                "  Sign in with Hootsuite as:\n"
                f"    {seed.EM_EMAIL:<20} password {seed.DEMO_PASSWORD}  (emergency team: controls)\n"
                f"    {seed.STAFF_EMAIL:<20} password {seed.DEMO_PASSWORD}  (staff: read-only)\n\n"
                "  Press Ctrl-C to stop both; `empause demo` again carries on where it was,\n"
                "  `empause demo --reset` starts afresh.\n",
                flush=True,
            )
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                print("\n  stopping…", flush=True)
