"""The SocialHub sandbox's /_sandbox/ control API, with the Hootsuite sandbox's verbs:
reset, state, clock (read, set, advance, freeze), faults; plus team membership of users.

Only mounted in seed/test mode; tools and tests drive the world through it.
"""

from __future__ import annotations

from empause.domain.timeutil import format_time, parse_time
from empause.sandbox.http import Request, Response, json_response
from empause.sandbox.socialhub import seed
from empause.sandbox.socialhub.api import json_body
from empause.sandbox.socialhub.errors import ShError
from empause.sandbox.socialhub.state import SocialHubSandbox


def _number(body: dict, name: str, default: float | None = None) -> float | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShError(400, f"{name} must be a number")
    return value


def reset(sb: SocialHubSandbox, req: Request) -> Response:
    body = json_body(req, required=False)
    name = body.get("seed", "demo")
    posts = _number(body, "posts", 300)
    rng = _number(body, "rng", 7)
    if not isinstance(name, str) or posts is None or posts < 0:
        raise ShError(400, "seed must be a string and posts >= 0")
    sb.reset(name, int(posts), int(rng or 0))
    return json_response({"ok": True, "now": format_time(sb.clock.now()),
                          "posts": len(sb.world.posts)})  # fmt: skip


def demo(sb: SocialHubSandbox) -> dict:
    """Who is who in the demo: the account's token, the emergency team, each member."""
    team = sb.world.teams.get(seed.EM_TEAM_ID)
    return {
        "account_id": seed.ACCOUNT_ID,
        "access_token": seed.ACCOUNT_TOKEN,
        "emergency_team_id": seed.EM_TEAM_ID,
        "staff_team_id": seed.STAFF_TEAM_ID,
        "members": [
            {"user_id": u.id, "email": u.email, "access_token": u.access_token, "role": u.role,
             "emergency": team is not None and u.id in team.users}
            for u in sb.world.users.values()
        ],
    }  # fmt: skip


def state(sb: SocialHubSandbox, req: Request) -> Response:
    return json_response({
        "now": format_time(sb.clock.now()),
        "frozen": sb.clock.frozen,
        "demo": demo(sb),
        "posts": [p.to_state() for p in sb.world.posts.values()],
        "published": sb.world.published,
        "calls": dict(sb.calls),
        "faults": sb.faults.describe(),
        "rate_limit": sb.limiter.per_second,
    })  # fmt: skip


def _clock(sb: SocialHubSandbox) -> dict:
    now = sb.clock.now()
    return {"now": format_time(now), "now_precise": now.isoformat(), "frozen": sb.clock.frozen}


def get_clock(sb: SocialHubSandbox, req: Request) -> Response:
    return json_response(_clock(sb))


def clock(sb: SocialHubSandbox, req: Request) -> Response:
    body = json_body(req, required=False)
    frozen = body.get("frozen")
    if frozen is not None and not isinstance(frozen, bool):
        raise ShError(400, "frozen must be a boolean")
    if body.get("now") is not None:
        try:
            sb.clock.set(parse_time(str(body["now"])))
        except ValueError as exc:
            raise ShError(400, f"now: {exc}") from None
    advance = _number(body, "advance_seconds")
    if advance:
        sb.clock.advance(advance)
    if frozen is not None:
        sb.clock.freeze(frozen)
    return json_response({**_clock(sb), "published": sb.world.publish_due()})


def faults(sb: SocialHubSandbox, req: Request) -> Response:
    body = json_body(req, required=False)
    try:
        sb.faults.configure(body)
    except (ValueError, TypeError) as exc:
        raise ShError(400, str(exc)) from None
    rate = _number(body, "rate_limit")
    if rate is not None:
        sb.limiter.per_second = rate
    return json_response({**sb.faults.describe(), "rate_limit": sb.limiter.per_second})


def user(sb: SocialHubSandbox, req: Request) -> Response:
    """Set a user's teams (membership can change mid-emergency)."""
    found = sb.world.users.get(req.params["userId"])
    if found is None:
        raise ShError(404, f"User {req.params['userId']} not found")
    body = json_body(req, required=False)
    wanted = body.get("teams")
    if wanted is not None:
        if not isinstance(wanted, list) or not all(isinstance(t, str) for t in wanted):
            raise ShError(400, "teams must be an array of team ids")
        unknown = set(wanted) - set(sb.world.teams)
        if unknown:
            raise ShError(400, f"Unknown team {sorted(unknown)[0]}")
        for team in sb.world.teams.values():
            if team.id in wanted and found.id not in team.users:
                team.users.append(found.id)
            elif team.id not in wanted and found.id in team.users:
                team.users.remove(found.id)
    return json_response({**found.to_api(),
                          "teams": [t.id for t in sb.world.user_teams(found.id)]})  # fmt: skip


ROUTES = [
    ("POST", "/_sandbox/reset", reset),
    ("GET", "/_sandbox/state", state),
    ("GET", "/_sandbox/clock", get_clock),
    ("POST", "/_sandbox/clock", clock),
    ("POST", "/_sandbox/faults", faults),
    ("POST", "/_sandbox/users/{userId}", user),
]
