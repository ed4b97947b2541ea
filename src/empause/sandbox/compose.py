"""The planner's compose form: post a message as any demo member, as if through Hootsuite.

The form is checked here (a 4xx with a sentence for people, never a 5xx); the message is then
created by the REST endpoint's own rules (`api.post_messages`) with a token for the member
that is never stored: members who need approval produce PENDING_APPROVAL, and every webhook
fires exactly as for POST /v1/messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from empause.domain.timeutil import format_time, parse_time
from empause.sandbox import api
from empause.sandbox.errors import ApiError
from empause.sandbox.planner import profile_label
from empause.sandbox.seed import CLIENT_ID
from empause.sandbox.state import Sandbox
from empause.sandbox.world import Message, Token

TEXT_MAX = 2000  # characters; the form's maxlength says the same
# "When" choices, in minutes from now on the sandbox clock; any whole number up to the API's
# 4-week listing window is accepted.
WHEN_CHOICES = (1, 2, 5, 15, 60, 24 * 60, 3 * 24 * 60)
WHEN_DEFAULT = 2
WHEN_MAX = 28 * 24 * 60
FIELD_MAX = 100  # characters of an id or a time field


class FormError(Exception):
    """Bad form input: the status and a sentence that says what to change."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Composed:
    message: Message
    author: str


def when_label(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"in {days} day{'s' * (days > 1)}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"in {hours} hour{'s' * (hours > 1)}"
    return f"in {minutes} minute{'s' * (minutes > 1)}"


def _field(form: dict[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if len(value) > FIELD_MAX:
        raise FormError(400, f"{name} is too long")
    return value


def _send_time(form: dict[str, str], now: datetime) -> datetime:
    """`at` (UTC, e.g. 2031-01-01T09:30) when given, else `when` minutes from now."""
    at = _field(form, "at")
    if at:
        try:
            when = parse_time(at if at.endswith("Z") else at + "Z")
        except ValueError:
            raise FormError(400, "The exact time must look like 2031-01-01T09:30 (UTC)") from None
        if when <= now:
            raise FormError(400, f"The exact time must be after now ({format_time(now)})")
        return when
    raw = _field(form, "when") or str(WHEN_DEFAULT)
    if not raw.isdigit() or not 1 <= int(raw) <= WHEN_MAX:
        raise FormError(400, f"When must be a whole number of minutes from 1 to {WHEN_MAX}")
    # Whole seconds, as the API stores them; at least one minute ahead.
    return (now + timedelta(minutes=int(raw))).replace(microsecond=0)


def compose(sb: Sandbox, form: dict[str, str]) -> Composed:
    """Create the message the form describes; FormError says what is wrong with it."""
    world = sb.world
    member = world.members.get(_field(form, "member"))
    if member is None:
        raise FormError(400, "Choose a member to post as")
    profile = world.profiles.get(_field(form, "profile"))
    if profile is None or profile.organization_id != member.organization_id:
        raise FormError(400, f"Choose one of {member.full_name}'s organization's social profiles")
    text = form.get("text", "")
    if not text.strip():
        raise FormError(400, "Write the message's text")
    if len(text) > TEXT_MAX:
        raise FormError(400, f"The text is {len(text)} characters; at most {TEXT_MAX}")
    when = _send_time(form, sb.clock.now())
    token = Token(access_token="", client_id=CLIENT_ID, expires_ms=0, member_id=member.id)
    body = {
        "text": text,
        "socialProfileIds": [profile.id],
        "scheduledSendTime": format_time(when),
    }
    try:
        created = api.post_messages(sb, token, body)
    except ApiError as exc:
        if exc.code == 4008:
            raise FormError(
                403,
                f"{member.full_name} cannot post to {profile_label(profile)}: "
                "the profile is not on any of their teams",
            ) from None
        raise FormError(exc.status, exc.message) from None
    return Composed(created[0], member.full_name)
