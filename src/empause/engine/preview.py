"""A pause's preview (dry run): exactly what `execute_pause` would list, summarised.

It lists the same window a pause started now would record (`[now, now + horizon)`, the
organization's horizon unless one is given) through the same port call, and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from empause.domain.model import Message
from empause.domain.timeutil import format_time
from empause.platforms.port import Platform, PlatformError

FIRST_DUE = 10  # items listed in `first_due`


def window(now: datetime, horizon: timedelta) -> tuple[datetime, datetime]:
    """The pause window, as `Engine.begin_pause` records it."""
    return now, now + horizon


async def due_messages(platform: Platform, start: datetime, end: datetime) -> list[Message]:
    """What a pause over [start, end) journals: every listed item once, soonest first."""
    seen: dict[str, Message] = {}
    async for page in platform.list_due(start, end):
        for message in page:
            seen.setdefault(message.id, message)
    return sorted(seen.values(), key=lambda m: (m.scheduled_send_time, m.id))


def summarise(
    messages: list[Message],
    pending: int,
    start: datetime,
    end: datetime,
    names: dict[str, str],
    first: int = FIRST_DUE,
) -> dict[str, Any]:
    """`{"messages", "by_profile", "by_day", "first_due", "pending_approval", ...}`."""
    by_profile = Counter(names.get(m.profile_id, m.profile_id) for m in messages)
    by_day = Counter(m.scheduled_send_time.date().isoformat() for m in messages)
    return {
        "messages": len(messages),
        "by_profile": dict(sorted(by_profile.items())),
        "by_day": dict(sorted(by_day.items())),
        "first_due": [
            {
                "id": m.id,
                "due": format_time(m.scheduled_send_time),
                "profile": names.get(m.profile_id, m.profile_id),
                "profile_id": m.profile_id,
                "text": m.text[:140],
            }
            for m in messages[:first]
        ],
        "pending_approval": pending,
        "window_start": format_time(start),
        "window_end": format_time(end),
    }


async def preview(platform: Platform, now: datetime, horizon: timedelta) -> dict[str, Any]:
    """List, count and summarise what a pause started at `now` would move; changes nothing."""
    start, end = window(now, horizon)
    messages = await due_messages(platform, start, end)
    pending = len(await platform.pending())
    try:
        names = await platform.profile_names()
    except PlatformError:  # names are a nicety; ids are shown instead
        names = {}
    result = summarise(messages, pending, start, end, names)
    result["horizon_seconds"] = int(horizon.total_seconds())
    return result
