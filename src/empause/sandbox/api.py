"""The /v1 REST endpoints an emergency-pause app needs, with the spec's envelopes and codes."""

from __future__ import annotations

from empause.domain.timeutil import format_time, parse_time
from empause.sandbox.errors import ApiError
from empause.sandbox.http import Request, Response, data_response
from empause.sandbox.state import Sandbox
from empause.sandbox.world import EXTRA_FIELDS, Message, Token, to_ms

MAX_WINDOW_MS = 28 * 86400 * 1000
STATE_FILTERS = {"PENDING_APPROVAL", "REJECTED", "SENT", "SCHEDULED", "SEND_FAILED_PERMANENTLY"}
OWLY_PREFIXES = (
    "http://static.ow.ly/",
    "https://static.ow.ly/",
    "http://ow.ly/i/",
    "https://ow.ly/i/",
)


# --- helpers -----------------------------------------------------------------------------
def _member_token(token: Token) -> str:
    if not token.member_id:
        raise ApiError(403, 4009, "This endpoint requires a member token")
    return token.member_id


def _organization(sb: Sandbox, token: Token, org_id: str, code: int) -> str:
    if org_id not in sb.world.organizations:
        raise ApiError(404, 3003, resource={"type": "organization", "id": org_id})
    if sb.world.token_organization(token) != org_id:
        raise ApiError(403, code)
    return org_id


def _org_member(sb: Sandbox, token: Token, org_id: str, member_id: str, code: int) -> str:
    _organization(sb, token, org_id, code)
    member = sb.world.members.get(member_id)
    if member is None or member.organization_id != org_id:
        raise ApiError(
            404,
            4303,
            "Member does not exist in organization",
            resource={"type": "member", "id": member_id},
        )
    return member_id


def _visible_message(sb: Sandbox, token: Token, message_id: str) -> Message:
    message = sb.world.messages.get(message_id)
    if message is None or message.deleted or not _can_see(sb, token, message):
        raise ApiError(404, 4001, resource={"type": "message", "id": message_id})
    return message


def _can_see(sb: Sandbox, token: Token, message: Message) -> bool:
    if sb.world.token_organization(token) != message.organization_id:
        return False
    if token.member_id:
        return (
            message.created_by == token.member_id
            or message.profile_id in sb.world.member_profile_ids(token.member_id)
        )
    return token.organization_id is not None


def _time(value: object, name: str) -> int:
    if not isinstance(value, str) or not value:
        raise ApiError(400, 4000, f"{name} is required (ISO-8601, e.g. 2020-01-01T00:00:00Z)")
    try:
        return to_ms(parse_time(value))
    except ValueError:
        raise ApiError(400, 4000, f"{name} is not a valid ISO-8601 time: {value!r}") from None


# --- me / members / organizations / teams / profiles -------------------------------------
def me(sb: Sandbox, req: Request, token: Token) -> Response:
    return data_response(sb.world.members[_member_token(token)].to_api())


def me_organizations(sb: Sandbox, req: Request, token: Token) -> Response:
    org = sb.world.organizations[sb.world.members[_member_token(token)].organization_id]
    return data_response(
        [{"id": org.id, "name": org.name, "logoUrl": "http://static.ow.ly/logos/org.png"}]
    )


def me_social_profiles(sb: Sandbox, req: Request, token: Token) -> Response:
    ids = sb.world.member_profile_ids(_member_token(token))
    return data_response([p.to_api() for p in sb.world.profiles.values() if p.id in ids])


def social_profiles(sb: Sandbox, req: Request, token: Token) -> Response:
    ids = sb.world.visible_profile_ids(token)
    return data_response([p.to_api() for p in sb.world.profiles.values() if p.id in ids])


def _profile(sb: Sandbox, token: Token, profile_id: str):
    profile = sb.world.profiles.get(profile_id)
    if profile is None:
        raise ApiError(404, 4001, resource={"type": "socialProfile", "id": profile_id})
    if profile_id not in sb.world.visible_profile_ids(token):
        raise ApiError(403, 4008, resource={"type": "socialProfile", "id": profile_id})
    return profile


def social_profile(sb: Sandbox, req: Request, token: Token) -> Response:
    return data_response(_profile(sb, token, req.params["socialProfileId"]).to_api())


def social_profile_teams(sb: Sandbox, req: Request, token: Token) -> Response:
    profile = _profile(sb, token, req.params["socialProfileId"])
    teams = [t for t in sb.world.teams.values() if profile.id in t.profile_ids]
    return data_response([{"id": t.id} for t in teams])


def _member(sb: Sandbox, token: Token, member_id: str, forbidden_code: int):
    found = sb.world.members.get(member_id)
    if found is None:
        raise ApiError(404, 4001, resource={"type": "member", "id": member_id})
    if found.organization_id != sb.world.token_organization(token):
        raise ApiError(403, forbidden_code)
    return found


def member(sb: Sandbox, req: Request, token: Token) -> Response:
    return data_response(_member(sb, token, req.params["memberId"], 4002).to_api())


def member_organizations(sb: Sandbox, req: Request, token: Token) -> Response:
    found = _member(sb, token, req.params["memberId"], 4004)
    return data_response([{"id": found.organization_id}])


def organization_members(sb: Sandbox, req: Request, token: Token) -> Response:
    org_id = _organization(sb, token, req.params["organizationId"], 4002)
    return data_response(
        [{"id": m.id} for m in sb.world.members.values() if m.organization_id == org_id]
    )


def organization_member_teams(sb: Sandbox, req: Request, token: Token) -> Response:
    p = req.params
    member_id = _org_member(sb, token, p["organizationId"], p["memberId"], 4010)
    return data_response([{"id": t.id} for t in sb.world.member_teams(member_id)])


def organization_member_permissions(sb: Sandbox, req: Request, token: Token) -> Response:
    p = req.params
    member_id = _org_member(sb, token, p["organizationId"], p["memberId"], 4003)
    if sb.world.members[member_id].is_admin:
        return data_response(
            {
                "permissions": [
                    "ORG_MANAGE_MEMBER",
                    "ORG_MANAGE_TEAM",
                    "ORG_MANAGE_SOCIAL_PROFILE",
                    "ORG_MANAGE_APP_DIRECTORY",
                    "ORG_MANAGE_BILLING",
                    "ORG_SUPER_ADMIN",
                ],
                "permissionPreset": "SUPER_ADMIN",
            }
        )
    return data_response({"permissions": [], "permissionPreset": "MEMBER"})


def organization_teams(sb: Sandbox, req: Request, token: Token) -> Response:
    org_id = _organization(sb, token, req.params["organizationId"], 4010)
    return data_response(
        [t.to_api() for t in sb.world.teams.values() if t.organization_id == org_id]
    )


def _team(sb: Sandbox, token: Token, team_id: str, org_id: str | None, code: int):
    team = sb.world.teams.get(team_id)
    if team is None or (org_id is not None and team.organization_id != org_id):
        raise ApiError(404, 3005, resource={"type": "team", "id": team_id})
    if team.organization_id != sb.world.token_organization(token):
        raise ApiError(403, code)
    return team


def organization_team_members(sb: Sandbox, req: Request, token: Token) -> Response:
    org_id = _organization(sb, token, req.params["organizationId"], 4005)
    team = _team(sb, token, req.params["teamId"], org_id, 4005)
    return data_response([{"id": m} for m in sorted(team.member_ids)])


def team(sb: Sandbox, req: Request, token: Token) -> Response:
    return data_response(_team(sb, token, req.params["teamId"], None, 4006).to_api())


# --- messages ----------------------------------------------------------------------------
def _cursor(value: str) -> tuple[tuple[int, int], int]:
    try:
        ms, num, direction = value.split(":")
        key = (int(ms), int(num))
        if direction not in ("0", "1"):
            raise ValueError
        return key, int(direction)
    except ValueError:
        raise ApiError(400, 3020) from None


def list_messages(sb: Sandbox, req: Request, token: Token) -> Response:
    start = _time(req.arg("startTime"), "startTime")
    end = _time(req.arg("endTime"), "endTime")
    if end < start:
        raise ApiError(400, 4000, "endTime must not be before startTime")
    if end - start > MAX_WINDOW_MS:
        raise ApiError(400, 40020, "Specified date range is too large (at most 4 weeks)")
    state = req.arg("state")
    if state is not None and state not in STATE_FILTERS:
        raise ApiError(400, 40019)
    flag = req.arg("includeUnscheduledReviewMsgs")
    if flag is not None and flag.lower() not in ("true", "false"):
        raise ApiError(400, 40022, "Invalid boolean for includeUnscheduledReviewMsgs flag")
    raw_limit = req.arg("limit")
    try:
        limit = 50 if raw_limit in (None, "") else int(raw_limit)
    except ValueError:
        raise ApiError(400, 4000, "limit must be an integer") from None
    if not 1 <= limit <= 100:
        raise ApiError(400, 4000, "limit must be between 1 and 100")
    org_id = sb.world.token_organization(token)
    if org_id is None:
        raise ApiError(403, 4009)
    allowed = sb.world.visible_profile_ids(token)
    wanted = set(req.args("socialProfileIds"))
    if wanted:
        allowed = allowed & wanted
    member_id = token.member_id

    def keep(m: Message) -> bool:
        return (
            (m.profile_id in allowed or (member_id is not None and m.created_by == member_id))
            and m.organization_id == org_id
            and (state is None or m.state == state)
            and (not wanted or m.profile_id in wanted)
        )

    raw_cursor = req.arg("cursor")
    page: list[Message] = []
    next_key = prev_key = None
    if raw_cursor:
        key, direction = _cursor(raw_cursor)
    else:
        key, direction = None, 0
    if direction == 0:
        after = key if key is not None and key >= (start, -1) else None
        for m in sb.world.window(start, end, after):
            if keep(m):
                if len(page) == limit:
                    next_key = page[-1].key
                    break
                page.append(m)
        if raw_cursor and page:
            prev_key = page[0].key
    else:
        for m in sb.world.window_before(start, key):
            if m.send_ms < end and keep(m):
                if len(page) == limit:
                    prev_key = page[-1].key
                    break
                page.append(m)
        page.reverse()
        if page:
            next_key = page[-1].key
    metadata = {
        "cursor": {
            "next": f"{next_key[0]}:{next_key[1]}:0" if next_key else None,
            "previous": f"{prev_key[0]}:{prev_key[1]}:1" if prev_key else None,
        }
    }
    return data_response([m.to_api() for m in page], metadata=metadata)


def get_message(sb: Sandbox, req: Request, token: Token) -> Response:
    return data_response(_visible_message(sb, token, req.params["messageId"]).to_api())


def _check_list(body: dict, name: str, item_type: type) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, item_type) for v in value):
        kind = "strings" if item_type is str else "objects"
        raise ApiError(400, 4000, f"{name} must be an array of {kind}")


def _validate_extras(body: dict) -> dict:
    """Type-check the optional Message fields; keep them verbatim (nulls dropped)."""
    _check_list(body, "webhookUrls", str)
    _check_list(body, "tags", str)
    _check_list(body, "mediaUrls", dict)
    _check_list(body, "media", dict)
    _check_list(body, "extendedInfo", dict)
    for name in ("targeting", "privacy", "location"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise ApiError(400, 4000, f"{name} must be an object")
    if body.get("emailNotification") is not None and not isinstance(
        body["emailNotification"], bool
    ):
        raise ApiError(400, 4000, "emailNotification must be a boolean")
    location = body.get("location")
    if location is not None:
        for axis, bound in (("latitude", 90), ("longitude", 180)):
            value = location.get(axis)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not -bound <= value <= bound
            ):
                raise ApiError(400, 4000, f"location.{axis} must be a number in ±{bound}")
    for item in body.get("mediaUrls") or ():
        url = item.get("url")
        if not isinstance(url, str):
            raise ApiError(400, 4000, "mediaUrls[].url must be a string")
        if not url.startswith(OWLY_PREFIXES):
            raise ApiError(400, 40004)
    for item in body.get("media") or ():
        if not isinstance(item.get("id"), str):
            raise ApiError(400, 4000, "media[].id must be a string")
    return {name: body[name] for name in EXTRA_FIELDS if body.get(name) is not None}


def create_message(sb: Sandbox, req: Request, token: Token) -> Response:
    created = post_messages(sb, token, req.json_object())
    return data_response(
        [m.to_api() for m in created], metadata={"cursor": {"next": None, "previous": None}}
    )


def post_messages(sb: Sandbox, token: Token, body: dict) -> list[Message]:
    """POST /v1/messages's rules: validate, create one message per profile (PENDING_APPROVAL
    for members who need approval), record history and emit the webhook events. Also the
    sandbox planner's compose form, which posts as a member through here."""
    world = sb.world
    org_id = world.token_organization(token)
    if org_id is None:
        raise ApiError(403, 4009)
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        raise ApiError(400, 4000, "text must be a string")
    ids = body.get("socialProfileIds")
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, str | int) and not isinstance(i, bool) for i in ids)
    ):
        raise ApiError(400, 2306, "socialProfileIds must be a non-empty array of profile ids")
    ids = list(dict.fromkeys(str(i) for i in ids))
    extras = _validate_extras(body)
    if not text and not extras.get("media") and not extras.get("mediaUrls"):
        raise ApiError(400, 4000, "text is required")
    raw_time = body.get("scheduledSendTime")
    now = sb.clock.now()
    if raw_time is None:
        when = now
    else:
        if not isinstance(raw_time, str) or not raw_time.endswith("Z"):
            raise ApiError(400, 4000, "scheduledSendTime must be UTC ISO-8601 ending in 'Z'")
        try:
            when = parse_time(raw_time)
        except ValueError:
            raise ApiError(400, 4000, f"scheduledSendTime is not valid: {raw_time!r}") from None
        if when <= now:
            raise ApiError(400, 4000, "scheduledSendTime must be in the future")
    visible = world.visible_profile_ids(token)
    profiles = []
    for pid in ids:
        profile = world.profiles.get(pid)
        if profile is None or profile.organization_id != org_id:
            raise ApiError(400, 4001, resource={"type": "socialProfile", "id": pid})
        if pid not in visible:
            raise ApiError(403, 4008, resource={"type": "socialProfile", "id": pid})
        profiles.append(profile)
    if len(profiles) > 1 and any(p.type == "TWITTER" for p in profiles):
        raise ApiError(400, 40023)
    member = world.members.get(token.member_id) if token.member_id else None
    needs_approval = bool(member and member.needs_approval)
    send_time = format_time(when)
    send_ms = int(when.timestamp()) * 1000
    created = []
    for profile in profiles:
        num = world.new_id()
        message = Message(
            id=str(num),
            num=num,
            state="PENDING_APPROVAL" if needs_approval else "SCHEDULED",
            text=text or "",
            profile_id=profile.id,
            organization_id=org_id,
            send_ms=send_ms,
            send_time=send_time,
            extra=dict(extras),
            created_by=token.member_id,
            created_at=format_time(now),
        )
        if needs_approval:
            message.sequence_number = 1
            message.reviewers = [
                {"id": m.id, "type": "ADMIN_AND_EDITOR"}
                for m in world.members.values()
                if m.organization_id == org_id and m.is_admin
            ]
        if token.member_id:
            world.record(message, "CREATE", token.member_id, "MEMBER")
        else:
            world.record(message, "CREATE", token.organization_id, "SYSTEM")
        world.add_message(message)
        world.on_event(message, message.state)
        created.append(message)
    return created


def delete_message(sb: Sandbox, req: Request, token: Token) -> Response:
    message = _visible_message(sb, token, req.params["messageId"])
    if message.state == "SENT":
        raise ApiError(400, 40003, resource={"type": "message", "id": message.id})
    actor = token.member_id or token.organization_id
    sb.world.record(message, "DELETE", actor, "MEMBER" if token.member_id else "SYSTEM")
    sb.world.delete(message)
    return data_response([], errors=None)


def _review(sb: Sandbox, req: Request, token: Token, reject: bool) -> tuple[Message, str, str]:
    message = _visible_message(sb, token, req.params["messageId"])
    body = req.json_object()
    sequence = body.get("sequenceNumber")
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise ApiError(400, 4000, "sequenceNumber is required and must be an integer")
    if reject and not isinstance(body.get("reason"), str):
        raise ApiError(400, 4000, "reason is required and must be a string")
    reviewer = body.get("reviewerType") or "EXTERNAL"
    if reviewer not in ("EXTERNAL", "MEMBER"):
        raise ApiError(400, 4000, "reviewerType must be EXTERNAL or MEMBER")
    if reviewer == "MEMBER" and not token.member_id:
        raise ApiError(400, 4000, "reviewerType MEMBER requires a member token")
    if message.state != "PENDING_APPROVAL":
        raise ApiError(400, 4000, "The message is not awaiting approval")
    if sequence != message.sequence_number:
        raise ApiError(400, 4000, "sequenceNumber does not match the message's current step")
    if reviewer == "MEMBER":
        actor, actor_type = token.member_id or "0", "MEMBER"
    else:
        actor, actor_type = token.organization_id or token.member_id or "0", "EXTERNAL_REVIEW_V1"
    return message, actor, actor_type


def approve_message(sb: Sandbox, req: Request, token: Token) -> Response:
    message, actor, actor_type = _review(sb, req, token, reject=False)
    sb.world.record(message, "APPROVE", actor, actor_type)
    sb.world.set_state(message, "SCHEDULED", event="APPROVED")
    return data_response({})


def reject_message(sb: Sandbox, req: Request, token: Token) -> Response:
    message, actor, actor_type = _review(sb, req, token, reject=True)
    sb.world.record(message, "REJECT", actor, actor_type)
    sb.world.set_state(message, "REJECTED")
    return data_response({})


def message_history(sb: Sandbox, req: Request, token: Token) -> Response:
    message = _visible_message(sb, token, req.params["messageId"])
    return data_response({"actions": list(message.history)})


ROUTES = [
    ("GET", "/v1/me", me),
    ("GET", "/v1/me/organizations", me_organizations),
    ("GET", "/v1/me/socialProfiles", me_social_profiles),
    ("GET", "/v1/socialProfiles", social_profiles),
    ("GET", "/v1/socialProfiles/{socialProfileId}", social_profile),
    ("GET", "/v1/socialProfiles/{socialProfileId}/teams", social_profile_teams),
    ("GET", "/v1/members/{memberId}", member),
    ("GET", "/v1/members/{memberId}/organizations", member_organizations),
    ("GET", "/v1/organizations/{organizationId}/members", organization_members),
    (
        "GET",
        "/v1/organizations/{organizationId}/members/{memberId}/teams",
        organization_member_teams,
    ),
    (
        "GET",
        "/v1/organizations/{organizationId}/members/{memberId}/permissions",
        organization_member_permissions,
    ),
    ("GET", "/v1/organizations/{organizationId}/teams", organization_teams),
    ("GET", "/v1/organizations/{organizationId}/teams/{teamId}/members", organization_team_members),
    ("GET", "/v1/teams/{teamId}", team),
    ("GET", "/v1/messages", list_messages),
    ("POST", "/v1/messages", create_message),
    ("GET", "/v1/messages/{messageId}", get_message),
    ("DELETE", "/v1/messages/{messageId}", delete_message),
    ("POST", "/v1/messages/{messageId}/approve", approve_message),
    ("POST", "/v1/messages/{messageId}/reject", reject_message),
    ("GET", "/v1/messages/{messageId}/history", message_history),
]
