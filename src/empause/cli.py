"""The `empause` command. Thin: parses and validates options, then hands over.

Each command imports its implementation lazily so `empause --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from empause.domain.validation import MAX_ID
from empause.sandbox.seed import MAX_ORGANIZATIONS

app = typer.Typer(
    no_args_is_help=True,
    help="Emergency Pause: stop every scheduled post during a crisis, safely.",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(db_app, name="db")
keys_app = typer.Typer(no_args_is_help=True, help="API keys for automation (alerting systems).")
app.add_typer(keys_app, name="api-key")
sessions_app = typer.Typer(no_args_is_help=True, help="Dashboard sessions.")
app.add_typer(sessions_app, name="sessions")
org_app = typer.Typer(no_args_is_help=True, help="The organizations this installation protects.")
app.add_typer(org_app, name="org")


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8900,
    seed: Annotated[
        str | None, typer.Option(help="Seed scenario ('demo'); also turns on /_sandbox/.")
    ] = None,
    messages: Annotated[int, typer.Option(min=0, help="Scheduled messages to seed.")] = 300,
    latency_ms: Annotated[float, typer.Option(min=0, help="Added latency per request.")] = 0,
    rate_limit: Annotated[float, typer.Option(min=0, help="Requests/second/account (0=off).")] = 20,
    organizations: Annotated[
        int,
        typer.Option(
            min=1, max=MAX_ORGANIZATIONS, help="Organizations to seed, each with --messages."
        ),
    ] = 1,
    platform: Annotated[
        str, typer.Option(help="Which platform to emulate: hootsuite or socialhub.")
    ] = "hootsuite",
    posts: Annotated[
        int, typer.Option(min=0, help="SocialHub: scheduled posts to seed.")
    ] = 300,
) -> None:
    """Run a platform sandbox: a faithful, embedded Hootsuite (default) or SocialHub."""
    if platform not in ("hootsuite", "socialhub"):
        raise typer.BadParameter("must be hootsuite or socialhub", param_hint="--platform")
    if platform == "socialhub":
        from empause.sandbox.socialhub.server import run as run_socialhub

        run_socialhub(
            host=host, port=port, seed_name=seed, posts=posts, latency_ms=latency_ms,
            rate_limit=rate_limit,
        )  # fmt: skip
        return
    from empause.sandbox.server import run

    run(
        host=host,
        port=port,
        seed=seed,
        messages=messages,
        latency_ms=latency_ms,
        rate_limit=rate_limit,
        organizations=organizations,
    )


@app.command()
def pause(
    reason: Annotated[
        str, typer.Option(help="Why: shown in the banner and the audit log (required).")
    ] = "",
    strategy: Annotated[
        str | None, typer.Option(help="shift or hold [default: the organization's, shift]")
    ] = None,
    horizon: Annotated[
        str | None, typer.Option(help="Window to clear [default: the organization's, 7d]")
    ] = None,
    shift: Annotated[
        str | None, typer.Option(help="How far to move each message [default: 7d]")
    ] = None,
    by: Annotated[str, typer.Option(help="Who pressed the button (audit log).")] = "cli",
    json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    org: Annotated[
        str | None, typer.Option("--org", help="Organization id (default: the only one).")
    ] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Record the pause, hand it to the workers, return.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would move; change nothing.")
    ] = False,
    until: Annotated[
        str | None,
        typer.Option(help="End by itself: an ISO time or a duration (90m, 2h, 3d); while "
                     "paused, changes the end."),
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="Start by itself later: an ISO time or a duration.")
    ] = None,
    restore: Annotated[
        str, typer.Option(help="How a timed pause resumes: original or keep.")
    ] = "original",
) -> None:
    """Pause the organization: move every scheduled message out of the window."""
    from empause.engine.commands import pause_command, preview_command

    if dry_run:
        preview_command(horizon=horizon, as_json=json, org=org)
        return

    pause_command(
        reason=reason, strategy=strategy, horizon=horizon, shift=shift, by=by, as_json=json,
        org=org, wait=not no_wait, until=until, at=at, end_restore=restore,
    )  # fmt: skip


@app.command("pause-end")
def pause_end(
    until: Annotated[
        str | None, typer.Option(help="The new end: an ISO time or a duration from now.")
    ] = None,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="The pause no longer ends by itself.")
    ] = False,
    restore: Annotated[
        str | None, typer.Option(help="How it resumes: original or keep [default: as set].")
    ] = None,
    by: Annotated[str, typer.Option(help="Who changed it (audit log).")] = "cli",
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    org: Annotated[
        str | None, typer.Option("--org", help="Organization id (default: the only one).")
    ] = None,
) -> None:
    """Extend, shorten or cancel the end of the pause in force."""
    from empause.engine.commands import pause_end_command

    pause_end_command(until=until, cancel=cancel, end_restore=restore, by=by, as_json=json,
                      org=org)  # fmt: skip


@app.command()
def resume(
    restore: Annotated[str, typer.Option(help="original or keep.")] = "original",
    by: Annotated[str, typer.Option(help="Who lifted the pause (audit log).")] = "cli",
    json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    org: Annotated[
        str | None, typer.Option("--org", help="Organization id (default: the only one).")
    ] = None,
) -> None:
    """Resume: lift the pause, optionally putting messages back at their original times."""
    from empause.engine.commands import resume_command

    resume_command(restore=restore, by=by, as_json=json, org=org)


@app.command()
def status(
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    org: Annotated[
        str | None, typer.Option("--org", help="Organization id (default: the only one).")
    ] = None,
) -> None:
    """Show whether the organization is paused and what the last operation did."""
    from empause.engine.commands import status_command

    status_command(as_json=json, org=org)


def _refuse_bad_secrets(what: str) -> None:
    from empause.config import get_settings, secret_problems

    problems = secret_problems(get_settings())
    if problems:
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
        typer.echo(f"error: refusing to {what} with missing or public secrets", err=True)
        raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Leave background work to `empause worker`.")
    ] = False,
) -> None:
    """Run the web app: dashboard, JSON API, webhook receiver, and a background worker."""
    from empause.web.server import run

    _refuse_bad_secrets("serve")
    run(host=host, port=port, background=not no_worker)


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Jobs (organizations) run at once.")
    ] = 10,
) -> None:
    """Run a background worker: operations, sweeps, webhook inboxes (any number may run)."""
    import asyncio

    from empause.config import get_settings
    from empause.web import logs
    from empause.worker import work

    _refuse_bad_secrets("run a worker")
    logs.configure()
    asyncio.run(work(get_settings(), concurrency))


@app.command()
def demo(
    platform: Annotated[
        str, typer.Option(help="The platform to run it on: hootsuite or socialhub.")
    ] = "hootsuite",
    port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="The app's port (default: EMPAUSE_PUBLIC_URL's, 8000)."
        ),
    ] = None,
    sandbox_port: Annotated[int, typer.Option(min=1, max=65535, help="The sandbox's port.")] = 8900,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="Folder for the database and the sandbox's world "
            "(default: the user's data directory, where the CLI looks).",
        ),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the demo's database and world; seed afresh.")
    ] = False,
) -> None:
    """Start the seeded sandbox and the app on SQLite, and print the sign-ins.

    Stopped and started again, it carries on where it was (mid-pause included)."""
    if platform not in ("hootsuite", "socialhub"):
        raise typer.BadParameter("must be hootsuite or socialhub", param_hint="--platform")
    if platform == "socialhub":
        from empause.demo_socialhub import run as run_socialhub

        run_socialhub()
        return
    from empause.demo import run

    run(sandbox_port=sandbox_port, port=port, data_dir=data_dir, reset=reset)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations (safe to run repeatedly)."""
    from sqlalchemy.engine import make_url

    from empause.config import get_settings
    from empause.store.migrate import upgrade

    url = get_settings().database_url
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        upgrade(url)
    except Exception as exc:  # a clear message, not a traceback
        typer.echo(f"error: could not migrate {shown}: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"database is up to date: {shown}")


@keys_app.command("create")
def api_key_create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'alerting'.")],
    member: Annotated[str, typer.Option(help="Email of the emergency-team member it acts for.")],
    json: Annotated[bool, typer.Option("--json", help='Print {"key": ..., "id": ...}.')] = False,
) -> None:
    """Create an API key (printed once) acting for an emergency-team member."""
    from empause.admin import create_key

    create_key(name, member, json)


@keys_app.command("list")
def api_key_list(json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List API keys (never the keys themselves)."""
    from empause.admin import list_keys

    list_keys(json)


@keys_app.command("revoke")
def api_key_revoke(
    key_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=MAX_ID)],
) -> None:
    """Revoke an API key: it stops working at once."""
    from empause.admin import revoke_key

    revoke_key(key_id)


@sessions_app.command("revoke")
def sessions_revoke(
    member: Annotated[str, typer.Option(help="Email of the member whose sessions to end.")],
) -> None:
    """End every dashboard session of one member (e.g. a lost laptop)."""
    from empause.admin import revoke_sessions

    revoke_sessions(member)


@org_app.command("add")
def org_add(
    emergency_team: Annotated[str, typer.Option(help="The emergency team's id on the platform.")],
    platform: Annotated[str, typer.Option(help="hootsuite or socialhub.")] = "hootsuite",
    org_id: Annotated[
        str | None, typer.Option("--id", help="The organization's id (Hootsuite).")
    ] = None,
    name: Annotated[str, typer.Option(help="A name to show.")] = "",
    base_url: Annotated[str | None, typer.Option(help="The platform's API (SocialHub).")] = None,
    access_token: Annotated[
        str | None, typer.Option(help="The account's access token (SocialHub).")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Protect an organization (checked with the platform first)."""
    from empause.org_commands import add

    add(platform, org_id, emergency_team, name, base_url, access_token, json)


@org_app.command("list")
def org_list(json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The protected organizations and whether each is paused."""
    from empause.org_commands import list_

    list_(json)


@org_app.command("remove")
def org_remove(org_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Stop protecting an organization (refused while it is paused)."""
    from empause.org_commands import remove

    remove(org_id)


@org_app.command("set")
def org_set(
    org_id: Annotated[str, typer.Argument(metavar="ID")],
    horizon: Annotated[str | None, typer.Option(help="Default window, e.g. 7d.")] = None,
    shift: Annotated[str | None, typer.Option(help="Default shift, e.g. 7d.")] = None,
    strategy: Annotated[str | None, typer.Option(help="Default strategy: shift or hold.")] = None,
    timezone: Annotated[str | None, typer.Option(help="For times shown, e.g. Europe/Paris.")] = None,
    notify: Annotated[str | None, typer.Option(help="Comma-separated apprise URLs.")] = None,
) -> None:
    """Change an organization's own settings."""
    from empause.org_commands import set_

    set_(org_id, {"horizon": horizon, "shift": shift, "strategy": strategy,
                  "timezone": timezone, "notify": notify})  # fmt: skip
