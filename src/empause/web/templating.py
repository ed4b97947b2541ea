"""Jinja2 templates, with times shown in the viewer's timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.responses import Response

from empause.domain.timeutil import parse_time

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@pass_context
def localtime(context: Any, value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = parse_time(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(context.get("tz"))).strftime(fmt)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


templates.env.filters["localtime"] = localtime
templates.env.filters["duration"] = duration


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """A page; the signed-in viewer (if the route looked them up) and their CSRF token."""
    who = getattr(request.state, "viewer", None)
    base: dict[str, Any] = {
        "viewer": who,
        "csrf_token": who.csrf if who else "",
        "tz": who.timezone if who else "UTC",
    }
    banner = getattr(request.state, "banner", None)
    if who is not None and banner is not None:
        base["status"] = banner  # the banner on every page; a page's own status wins
    base.update(context or {})
    return templates.TemplateResponse(request, name, base, status_code=status_code)
