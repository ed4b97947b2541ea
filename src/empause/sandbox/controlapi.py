"""The /_sandbox/ control API: reset, state, clock, faults, webhooks, members, tokens.

Only mounted in seed/test mode; tools and tests drive the world through it.
"""

from __future__ import annotations

from empause.domain.timeutil import format_time, parse_time
from empause.sandbox.errors import ApiError
from empause.sandbox.http import Request, Response, data_response, json_response
from empause.sandbox.oauth import registrable
from empause.sandbox.seed import CLIENT_ID, MAX_ORGANIZATIONS, seed_organization
from empause.sandbox.state import Sandbox


def _body(req: Request) -> dict:
    return req.json_object() if req.body.strip() else {}


def _number(body: dict, name: str, default: float | None = None) -> float | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, 4000, f"{name} must be a number")
    return value


def reset(sb: Sandbox, req: Request) -> Response:
    body = _body(req)
    seed = body.get("seed", "demo")
    messages = _number(body, "messages", 300)
    rng = _number(body, "rng", 7)
    organizations = _number(body, "organizations", 1)
    if not isinstance(seed, str) or messages is None or messages < 0:
        raise ApiError(400, 4000, "seed must be a string and messages >= 0")
    if organizations is None or not 1 <= organizations <= MAX_ORGANIZATIONS:
        raise ApiError(400, 4000, f"organizations must be 1 to {MAX_ORGANIZATIONS}")
    sb.reset(seed, int(messages), int(rng or 0), int(organizations))
    return json_response({"ok": True, "now": format_time(sb.clock.now()),
                          "messages": len(sb.world.messages)})


def organizations(sb: Sandbox) -> list[dict]:
    """Each seeded organization: its ids, emergency team and members (by email)."""
    found = []
    for index in range(sb.organizations):
        org = seed_organization(index)
        team = sb.world.teams.get(org.em_team_id)
        found.append({
            "id": org.id, "name": org.name, "emergency_team_id": org.em_team_id,
            "members": [
                {"id": m.id, "email": m.email,
                 "emergency": team is not None and m.id in team.member_ids}
                for m in sb.world.members.values() if m.organization_id == org.id
            ],
        })  # fmt: skip
    return found


def state(sb: Sandbox, req: Request) -> Response:
    world = sb.world
    return json_response(
        {
            "now": format_time(sb.clock.now()),
            "frozen": sb.clock.frozen,
            "organizations": organizations(sb),
            "messages": [m.to_state() for m in world.messages.values()],
            "published": world.published,
            "calls": dict(sb.calls),
            "webhooks": sb.webhooks.describe(),
            "faults": sb.faults.describe(),
            "rate_limit": sb.limiter.per_second,
            "token_ttl": sb.token_ttl,
        }
    )


def clock(sb: Sandbox, req: Request) -> Response:
    body = _body(req)
    frozen = body.get("frozen")
    if frozen is not None and not isinstance(frozen, bool):
        raise ApiError(400, 4000, "frozen must be a boolean")
    if body.get("now") is not None:
        try:
            sb.clock.set(parse_time(str(body["now"])))
        except ValueError as exc:
            raise ApiError(400, 4000, f"now: {exc}") from None
    advance = _number(body, "advance_seconds")
    if advance:
        sb.clock.advance(advance)
    if frozen is not None:
        sb.clock.freeze(frozen)
    return json_response({**_clock(sb), "published": sb.world.publish_due()})


def get_clock(sb: Sandbox, req: Request) -> Response:
    return json_response(_clock(sb))


def _clock(sb: Sandbox) -> dict:
    now = sb.clock.now()
    return {"now": format_time(now), "now_precise": now.isoformat(), "frozen": sb.clock.frozen}


def faults(sb: Sandbox, req: Request) -> Response:
    body = _body(req)
    try:
        sb.faults.configure(body)
    except (ValueError, TypeError) as exc:
        raise ApiError(400, 4000, str(exc)) from None
    rate = _number(body, "rate_limit")
    if rate is not None:
        sb.limiter.per_second = rate
    ttl = _number(body, "token_ttl")
    if ttl is not None:
        sb.token_ttl = int(ttl)
    return json_response({**sb.faults.describe(), "rate_limit": sb.limiter.per_second,
                          "token_ttl": sb.token_ttl})


def webhooks(sb: Sandbox, req: Request) -> Response:
    body = _body(req)
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ApiError(400, 4000, "url must be an http(s) URL")
    sb.webhooks.register(url)
    return json_response(sb.webhooks.describe())


def redirect_uris(sb: Sandbox, req: Request) -> Response:
    """Register a redirect URI for a client (the portal's Security settings)."""
    body = _body(req)
    uri, client_id = body.get("uri"), body.get("client_id") or CLIENT_ID
    if not isinstance(uri, str) or not registrable(uri) or len(uri) > 2000:
        raise ApiError(400, 4000, "uri must be an https URL, or http on localhost")
    if client_id not in sb.clients:
        raise ApiError(400, 4000, f"unknown client_id {client_id!r}")
    sb.redirect_uris.setdefault(client_id, set()).add(uri)
    return json_response({k: sorted(v) for k, v in sb.redirect_uris.items()})


def get_webhooks(sb: Sandbox, req: Request) -> Response:
    return json_response(sb.webhooks.describe())


def member(sb: Sandbox, req: Request) -> Response:
    member_id = req.params["memberId"]
    found = sb.world.members.get(member_id)
    if found is None:
        raise ApiError(404, 4001, resource={"type": "member", "id": member_id})
    body = _body(req)
    if body.get("needs_approval") is not None:
        if not isinstance(body["needs_approval"], bool):
            raise ApiError(400, 4000, "needs_approval must be a boolean")
        found.needs_approval = body["needs_approval"]
    teams = body.get("teams")
    if teams is not None:
        if not isinstance(teams, list) or not all(isinstance(t, str | int) for t in teams):
            raise ApiError(400, 4000, "teams must be an array of team ids")
        wanted = {str(t) for t in teams}
        unknown = wanted - set(sb.world.teams)
        if unknown:
            raise ApiError(400, 3005, resource={"type": "team", "id": sorted(unknown)[0]})
        for team in sb.world.teams.values():
            if team.organization_id != found.organization_id:
                continue
            if team.id in wanted:
                team.member_ids.add(member_id)
            else:
                team.member_ids.discard(member_id)
    return data_response(
        {
            **found.to_api(),
            "needs_approval": found.needs_approval,
            "is_admin": found.is_admin,
            "teams": [t.id for t in sb.world.member_teams(member_id)],
        }
    )


def expire_tokens(sb: Sandbox, req: Request) -> Response:
    for token in sb.tokens.access.values():
        token.expires_ms = 0
    return json_response({"expired": len(sb.tokens.access)})


ROUTES = [
    ("POST", "/_sandbox/reset", reset),
    ("GET", "/_sandbox/state", state),
    ("GET", "/_sandbox/clock", get_clock),
    ("POST", "/_sandbox/clock", clock),
    ("POST", "/_sandbox/faults", faults),
    ("POST", "/_sandbox/webhooks", webhooks),
    ("GET", "/_sandbox/webhooks", get_webhooks),
    ("POST", "/_sandbox/redirect-uris", redirect_uris),
    ("POST", "/_sandbox/members/{memberId}", member),
    ("POST", "/_sandbox/tokens/expire", expire_tokens),
]
