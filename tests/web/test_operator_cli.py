"""Operators' commands: no serving with public secrets; API keys and sessions from a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from typer.testing import CliRunner

from empause.cli import app
from empause.config import DEMO_SECRET_KEY, DEMO_WEBHOOK_SECRET, MIN_SECRET_LENGTH
from empause.sandbox import seed
from tests.web.helpers import signed_in

GOOD = "k" * MIN_SECRET_LENGTH


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EMPAUSE_")}
    return subprocess.run(
        [sys.executable, "-c", "from empause.cli import app; app()", "serve", "--port", "1"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=os.path.dirname(__file__),  # no .env here
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"EMPAUSE_WEBHOOK_SECRET": GOOD}, "EMPAUSE_SECRET_KEY"),
        ({"EMPAUSE_SECRET_KEY": DEMO_SECRET_KEY, "EMPAUSE_WEBHOOK_SECRET": GOOD}, "EMPAUSE_SECRET_KEY"),
        ({"EMPAUSE_SECRET_KEY": "short", "EMPAUSE_WEBHOOK_SECRET": GOOD}, "EMPAUSE_SECRET_KEY"),
        ({"EMPAUSE_SECRET_KEY": GOOD}, "EMPAUSE_WEBHOOK_SECRET"),
        ({"EMPAUSE_SECRET_KEY": GOOD, "EMPAUSE_WEBHOOK_SECRET": DEMO_WEBHOOK_SECRET}, "EMPAUSE_WEBHOOK_SECRET"),
    ],
)
def test_serve_refuses_missing_public_or_short_secrets(env, variable):
    result = _serve(env)
    assert result.returncode == 2, result.stderr
    assert variable in result.stderr
    assert "secrets.token_urlsafe" in result.stderr  # says how to make a good one


@pytest.fixture
def operator(app_server):
    """Run `empause ...` in-process with the app's configuration."""
    settings = app_server.settings
    env = {
        "EMPAUSE_DATABASE_URL": settings.database_url,
        "EMPAUSE_HOOTSUITE_BASE_URL": settings.hootsuite_base_url,
        "EMPAUSE_HOOTSUITE_CLIENT_ID": settings.hootsuite_client_id,
        "EMPAUSE_HOOTSUITE_CLIENT_SECRET": settings.hootsuite_client_secret,
        "EMPAUSE_ORGANIZATION_ID": settings.organization_id,
        "EMPAUSE_EMERGENCY_TEAM_ID": settings.emergency_team_id,
    }
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), env=env)

    return run


def test_api_keys_from_the_terminal(app_server, operator):
    created = operator("api-key", "create", "--name", "pager", "--member", seed.EM_EMAIL, "--json")
    assert created.exit_code == 0, created.output
    made = json.loads(created.stdout)
    assert made["key"].startswith("emp_") and isinstance(made["id"], int)
    status = httpx.get(
        f"{app_server.base_url}/api/status", headers={"Authorization": f"Bearer {made['key']}"}
    )
    assert status.status_code == 200, status.text

    listed = operator("api-key", "list", "--json")
    assert listed.exit_code == 0, listed.output
    keys = json.loads(listed.stdout)
    assert [k["name"] for k in keys] == ["pager"] and made["key"] not in listed.stdout

    refused = operator("api-key", "create", "--name", "x", "--member", seed.STAFF_EMAIL)
    assert refused.exit_code != 0
    assert "emergency team" in refused.output and seed.STAFF_EMAIL in refused.output
    unknown = operator("api-key", "create", "--name", "x", "--member", "nobody@example.org")
    assert unknown.exit_code != 0 and "nobody@example.org" in unknown.output

    revoked = operator("api-key", "revoke", str(made["id"]))
    assert revoked.exit_code == 0, revoked.output
    status = httpx.get(
        f"{app_server.base_url}/api/status", headers={"Authorization": f"Bearer {made['key']}"}
    )
    assert status.status_code == 401
    assert operator("api-key", "revoke", "999999").exit_code != 0


def test_sessions_revoke_ends_every_session_of_one_member(app_server, operator):
    laptop = signed_in(app_server.base_url, seed.EM_EMAIL)
    phone = signed_in(app_server.base_url, seed.EM_EMAIL)
    staff = signed_in(app_server.base_url, seed.STAFF_EMAIL)
    result = operator("sessions", "revoke", "--member", seed.EM_EMAIL.upper())
    assert result.exit_code == 0, result.output
    assert "2 session(s)" in result.output
    for browser in (laptop, phone):
        assert "Sign in with Hootsuite" in browser.get("/").text
    assert "Sign in with Hootsuite" not in staff.get("/").text
