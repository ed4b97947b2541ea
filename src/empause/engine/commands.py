"""`empause pause | resume | status`: the engine from a terminal or a script.

This is the CLI layer, so it is where the platform adapter is chosen and built; the engine
itself only sees the port. Every failure ends in one clear line on stderr and a non-zero
exit code, never a traceback: 2 bad option, 3 credentials refused, 4 upstream unreachable
or failing, 5 another operation running, 1 anything else.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from empause.config import Settings

if TYPE_CHECKING:
    from empause.engine.service import Engine
from empause.domain import validation
from empause.domain.model import Restore

EXIT_USAGE, EXIT_AUTH, EXIT_UPSTREAM, EXIT_BUSY, EXIT_OTHER = 2, 3, 4, 5, 1
REQUIRED = ("database_url",)


def _fail(code: int, message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"EMPAUSE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        _fail(EXIT_USAGE, f"invalid configuration: {problems}")
    missing = [f"EMPAUSE_{name.upper()}" for name in REQUIRED if not str(getattr(settings, name))]
    if missing:
        _fail(EXIT_USAGE, f"missing configuration: set {', '.join(missing)} (environment or .env)")
    return settings


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    """A Rich progress bar on stderr when it is a terminal; nothing otherwise."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Messages handled per second, once there is a rate to show."""

        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:.1f}/s" if task.speed else "", style="progress.data.speed")

    with Progress(
        TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TimeElapsedColumn(), console=Console(stderr=True), transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("starting", total=None)

        def update(done: int, total: int, phase: str) -> None:
            bar.update(task, completed=done, total=max(total, done) or None, description=phase)

        yield update


def _connection_refused(error: BaseException) -> bool:
    text = str(error)
    return any(s in text for s in ("ConnectError", "Connection refused", "unreachable"))


def _run(
    settings: Settings,
    action: Callable[[Any, Any], Awaitable[Mapping[str, Any]]],
    *,
    org: str | None = None,
    platform: bool = True,
) -> dict[str, Any]:
    """Migrate, build the engine, finish unfinished work, run `action`; map errors to exits."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from empause.bootstrap import UnknownOrganization
    from empause.engine.executor import unwrap
    from empause.engine.lock import Busy
    from empause.platforms.port import Ambiguous, AuthError, Permanent, Transient

    url = make_url(settings.database_url)
    shown_db = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).expanduser().resolve().parent
        if not folder.is_dir():
            _fail(
                EXIT_OTHER,
                f"database {shown_db}: folder {folder} does not exist; check EMPAUSE_DATABASE_URL",
            )
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return asyncio.run(_with_engine(settings, action, org, platform))
    except Exception as exc:
        error = unwrap(exc)
        if isinstance(error, ValueError | UnknownOrganization):
            _fail(EXIT_USAGE, str(error))
        if isinstance(error, AuthError):
            _fail(
                EXIT_AUTH,
                f"Hootsuite refused the credentials ({error}); check EMPAUSE_HOOTSUITE_CLIENT_ID, "
                "EMPAUSE_HOOTSUITE_CLIENT_SECRET and EMPAUSE_ORGANIZATION_ID",
            )
        if isinstance(error, Transient | Ambiguous):
            where = settings.hootsuite_base_url
            if _connection_refused(error):
                _fail(
                    EXIT_UPSTREAM,
                    f"cannot reach Hootsuite at {where} (connection refused): is it up? check "
                    "EMPAUSE_HOOTSUITE_BASE_URL; run the same command again to continue",
                )
            _fail(
                EXIT_UPSTREAM,
                f"Hootsuite at {where} keeps failing ({error}); the work is journaled: run the "
                "same command again to continue where it stopped",
            )
        if isinstance(error, Busy):
            _fail(EXIT_BUSY, str(error))
        if isinstance(error, Permanent):
            _fail(EXIT_OTHER, f"Hootsuite refused: {error}")
        if isinstance(error, SQLAlchemyError | OSError):
            _fail(EXIT_OTHER, f"database {shown_db}: {error}; check EMPAUSE_DATABASE_URL")
        _fail(EXIT_OTHER, f"unexpected {type(error).__name__}: {error}")


async def _with_engine(
    settings: Settings,
    action: Callable[[Any, Any], Awaitable[Mapping[str, Any]]],
    org_id: str | None,
    platform: bool,
) -> dict[str, Any]:
    from empause.bootstrap import Services

    services = Services(settings)
    try:
        await services.start()
        engine = services.engine(await services.organization(org_id))
        with _progress_bar(platform and sys.stderr.isatty()) as progress:
            recovered = await engine.recover(progress) if platform else []
            result = dict(await action(engine, progress))
        if recovered:
            result["recovered"] = recovered
        return result
    finally:
        await services.aclose()


def _emit(result: dict[str, Any], as_json: bool, headline: str) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2, sort_keys=True, default=str))
        return
    typer.echo(headline)
    for item in result.get("review", [])[:50]:
        typer.echo(f"  review {item['message_id']} ({item['original_time']}): {item['why']}")


def _shown_database(database_url: str) -> str:
    """The database as a person can find it: a SQLite file's absolute path, else the URL
    without its password."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return str(Path(url.database).expanduser().resolve())
    return url.render_as_string(hide_password=True)


def _figures(result: dict[str, Any]) -> str:
    safety = result.get("seconds_to_safety")
    total = result.get("total_seconds")
    return (
        f"{result.get('in_scope', 0)} in scope, {result.get('moved', 0)} moved, "
        f"{result.get('failed', 0)} failed; safe after "
        f"{'-' if safety is None else f'{safety:.1f}s'}, total "
        f"{'-' if total is None else f'{total:.1f}s'}, {result.get('api_calls', 0)} API calls"
    )


def _check_times(until: str | None, at: str | None, end_restore: str) -> None:
    from empause.domain.timeutil import utcnow

    if end_restore not in {r.value for r in Restore}:
        _fail(EXIT_USAGE, f"invalid --restore {end_restore!r}: use original or keep")
    try:
        starts = validation.moment(at, "at", utcnow())
        validation.moment(until, "until", starts or utcnow())
    except validation.InvalidParameter as exc:
        _fail(EXIT_USAGE, f"invalid --{exc.field}: {exc.message}")


def pause_command(
    reason: str, strategy: str | None, horizon: str | None, shift: str | None, by: str,
    as_json: bool,
    org: str | None = None, wait: bool = True,
    until: str | None = None, at: str | None = None, end_restore: str = "original",
) -> None:  # fmt: skip
    try:
        validation.pause_parameters(reason, strategy, horizon, shift)
    except validation.InvalidParameter as exc:
        _fail(EXIT_USAGE, f"invalid --{exc.field}: {exc.message}")
    _check_times(until, at, end_restore)
    settings = _settings()
    if at:
        return _schedule(settings, at, reason, strategy, horizon, shift, by, until, end_restore,
                         as_json, org)  # fmt: skip
    if not wait:
        return _pause_no_wait(settings, reason, strategy, horizon, shift, by, as_json, org,
                              until, end_restore)  # fmt: skip

    async def action(engine: Engine, progress: Any) -> Mapping[str, Any]:
        result = await engine.pause(reason, by, strategy, horizon, shift, progress,
                                    until=until, end_restore=end_restore)  # fmt: skip
        await _timer(settings, engine, result.get("ends_at"))
        return result

    result = _run(settings, action, org=org)
    if result.get("already_paused"):
        headline = f"already paused (operation {result.get('operation_id')}): {_figures(result)}"
    else:
        headline = f"paused: {_figures(result)}"
    if result.get("ends_at"):
        headline += f"; ends by itself at {result['ends_at']}"
    _emit(result, as_json, headline)
    if result.get("failed"):
        typer.echo(f"warning: {result['failed']} message(s) failed: see `empause status`", err=True)


async def _timer(settings: Settings, engine: Engine, when: Any) -> bool:
    """Put the pause's timer in the job database (PostgreSQL); on SQLite a running serve or
    worker finds it in the organization's row."""
    from empause.domain.timeutil import parse_time
    from empause.jobs import defer_timer

    if not when:
        return False
    moment = parse_time(when) if isinstance(when, str) else when
    return await defer_timer(settings.database_url, engine.organization_id, moment)


def _schedule(
    settings: Settings, at: str, reason: str, strategy: str | None, horizon: str | None,
    shift: str | None, by: str, until: str | None, end_restore: str, as_json: bool,
    org: str | None,
) -> None:  # fmt: skip
    """`--at`: record a pause that starts by itself; print when."""
    from empause.domain.timeutil import format_time

    async def action(engine: Engine, progress: Any) -> dict[str, Any]:
        starts = await engine.schedule_pause(at, reason, by, strategy, horizon, shift, until,
                                             end_restore)  # fmt: skip
        await _timer(settings, engine, starts)
        return {"scheduled": True, "starts_at": format_time(starts), "until": until,
                "organization": engine.organization_id}  # fmt: skip

    result = _run(settings, action, org=org, platform=False)
    if as_json:
        typer.echo(json.dumps(result, sort_keys=True))
        return
    typer.echo(f"pause scheduled: starts by itself at {result['starts_at']}"
               + (f", ends {until}" if until else ""))  # fmt: skip


def pause_end_command(
    until: str | None, cancel: bool, end_restore: str | None, by: str, as_json: bool,
    org: str | None,
) -> None:  # fmt: skip
    """`empause pause-end`: extend, shorten or cancel the end of the pause in force."""
    from empause.domain.timeutil import format_time

    if cancel == bool(until):
        _fail(EXIT_USAGE, "give either --until WHEN or --cancel")
    _check_times(until, None, end_restore or "original")
    settings = _settings()

    async def action(engine: Engine, progress: Any) -> dict[str, Any]:
        ends = await engine.set_pause_end(None if cancel else until, by, end_restore)
        await _timer(settings, engine, ends)
        return {"ends_at": format_time(ends) if ends else None,
                "organization": engine.organization_id}  # fmt: skip

    result = _run(settings, action, org=org, platform=False)
    if as_json:
        typer.echo(json.dumps(result, sort_keys=True))
        return
    typer.echo(f"the pause now ends at {result['ends_at']}" if result["ends_at"]
               else "the pause no longer ends by itself")  # fmt: skip


def _pause_no_wait(
    settings: Settings, reason: str, strategy: str | None, horizon: str | None,
    shift: str | None, by: str,
    as_json: bool, org: str | None, until: str | None = None, end_restore: str = "original",
) -> None:  # fmt: skip
    """Record the pause and hand it to the workers; print the operation and return."""
    from empause.domain.timeutil import format_time
    from empause.jobs import defer_operation

    async def action(engine: Engine, progress: Any) -> dict[str, Any]:
        begun = await engine.begin_pause(reason, by, strategy, horizon, shift, until=until,
                                         end_restore=end_restore)  # fmt: skip
        queued = False
        if begun.operation_id is not None and not begun.already:
            queued = await defer_operation(
                settings.database_url, engine.organization_id, begun.operation_id
            )
        await _timer(settings, engine, begun.ends_at)
        return {"operation": begun.operation_id, "already_paused": begun.already,
                "organization": engine.organization_id, "queued": queued,
                "ends_at": format_time(begun.ends_at) if begun.ends_at else None}  # fmt: skip

    result = _run(settings, action, org=org, platform=False)
    if as_json:
        typer.echo(json.dumps(result, sort_keys=True))
        return
    state = "already paused" if result["already_paused"] else "pause recorded"
    where = "queued for the workers" if result["queued"] else "a running serve/worker takes it"
    typer.echo(f"{state}: operation {result['operation']} of organization "
               f"{result['organization']} ({where}); follow it with `empause status`")  # fmt: skip


def preview_command(horizon: str | None, as_json: bool, org: str | None = None) -> None:
    """`empause pause --dry-run`: what a pause started now would move; changes nothing."""
    try:
        validation.duration(horizon, "horizon", validation.MAX_HORIZON)
    except validation.InvalidParameter as exc:
        _fail(EXIT_USAGE, f"invalid --{exc.field}: {exc.message}")
    settings = _settings()

    async def action(engine: Engine, progress: Any) -> dict[str, Any]:
        return await engine.preview(horizon)

    result = _run(settings, action, org=org, platform=False)
    if as_json:
        typer.echo(json.dumps(result, indent=2, sort_keys=True, default=str))
        return
    typer.echo(
        f"dry run: a pause now would move {result['messages']} message(s) due "
        f"{result['window_start']} .. {result['window_end']}; "
        f"{result['pending_approval']} pending approval"
        + (" (already paused)" if result.get("paused") else "")
    )
    for name, count in result["by_profile"].items():
        typer.echo(f"  {count:>6}  {name}")
    for day, count in result["by_day"].items():
        typer.echo(f"  {count:>6}  {day}")
    for item in result["first_due"]:
        typer.echo(f"  first due {item['due']}  {item['profile']}: {item['text'][:60]}")


def resume_command(restore: str, by: str, as_json: bool, org: str | None = None) -> None:
    if restore not in {r.value for r in Restore}:
        _fail(EXIT_USAGE, f"invalid --restore {restore!r}: use original or keep")
    settings = _settings()

    async def action(engine: Engine, progress: Any) -> Mapping[str, Any]:
        result = dict(await engine.resume(restore, by, progress))
        if not result.get("not_paused"):
            result["review"] = (await engine.status())["review"]
        return result

    result = _run(settings, action, org=org)
    if result.get("not_paused"):
        headline = "not paused: nothing to do"
    else:
        headline = (
            f"resumed ({restore}): {result.get('moved', 0)} restored, {result.get('kept', 0)} "
            f"kept where they were, {result.get('failed', 0)} failed, "
            f"{result.get('api_calls', 0)} API calls"
        )
    _emit(result, as_json, headline)


def status_command(as_json: bool, org: str | None = None) -> None:
    settings = _settings()

    async def action(engine: Engine, progress: Any) -> Mapping[str, Any]:
        return await engine.status()

    result = _run(settings, action, org=org, platform=False)
    result["database"] = _shown_database(settings.database_url)
    where = f"organization {result['organization_id']} in {result['database']}"
    if result["paused"]:
        headline = (
            f"PAUSED since {result['since']} by {result['by']}: {result['reason']} "
            f"(strategy {result['strategy']})"
        )
        if result.get("ends_at"):
            headline += f"\nends by itself at {result['ends_at']} ({result['end_restore']})"
    else:
        headline = "not paused"
    last = result.get("last_operation")
    if last:
        headline += f"\nlast {last['kind']} ({last['status']}): {_figures(last)}"
        if last.get("error"):
            headline += f"\n  error: {last['error']}"
    _emit(result, as_json, f"{where}\n{headline}")
