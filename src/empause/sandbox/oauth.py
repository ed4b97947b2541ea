"""/oauth2/auth (sign-in page) and /oauth2/token (five grants), as Hootsuite documents them.

Client credentials only in HTTP Basic; codes single-use for 10 minutes, and reusing one
revokes what it granted; refresh tokens rotate and are single-use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
import secrets
import uuid
from urllib.parse import urlencode, urlsplit

from empause.sandbox.errors import OAuthError
from empause.sandbox.http import Request, Response, html_response, json_response, redirect
from empause.sandbox.state import Grant, Sandbox

CODE_TTL_MS = 10 * 60 * 1000
SCOPES = {"offline", "analytics:read"}


PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636, section 4.1
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")  # base64url of a SHA-256, no padding


def registrable(uri: str) -> bool:
    """What the portal accepts as a redirect URI: https, or http on loopback."""
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")


def _redirect_allowed(sb: Sandbox, client_id: str, uri: str) -> bool:
    """Exactly one of the URIs registered for the client (Hootsuite compares exactly)."""
    return uri in sb.redirect_uris.get(client_id, set())


def _with_query(uri: str, params: dict) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Hootsuite sandbox</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f4f1ea;margin:0;display:flex;
justify-content:center;align-items:center;min-height:100vh}}
form{{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 2px 8px #0002;width:20rem}}
label{{display:block;margin-top:1rem}} input{{width:100%;padding:.5rem;box-sizing:border-box}}
button{{margin-top:1.5rem;width:100%;padding:.6rem;background:#143059;color:#fff;border:0;
border-radius:4px;font-size:1rem}} .error{{color:#b00020}}
</style></head><body><main>
<form method="post" action="/oauth2/auth">
<h1>Hootsuite sandbox</h1>
<p><strong>{client}</strong> wants to access your Hootsuite account.</p>
{error}
<label for="email">Email</label><input id="email" name="email" type="email" value="{email}" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
{hidden}
<button type="submit">Sign in and allow</button>
</form></main></body></html>"""

_PASS_THROUGH = (
    "response_type", "client_id", "redirect_uri", "scope", "state",
    "code_challenge", "code_challenge_method",
)


def _page(params: dict, error: str = "", email: str = "", status: int = 200) -> Response:
    hidden = "\n".join(
        f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">'
        for k in _PASS_THROUGH if params.get(k) is not None
    )
    return html_response(
        _PAGE.format(
            client=html.escape(params.get("client_id", "")),
            error=f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "",
            email=html.escape(email),
            hidden=hidden,
        ),
        status,
    )


def _error_page(text: str) -> Response:
    return html_response(
        f"<!doctype html><html><head><title>Error</title></head><body><h1>OAuth error</h1>"
        f"<p>{html.escape(text)}</p></body></html>",
        400,
    )


def _check_params(sb: Sandbox, params: dict) -> Response | None:
    """Validate the authorization request; errors go to the redirect_uri when it is valid."""
    client_id = params.get("client_id") or ""
    redirect_uri = params.get("redirect_uri") or ""
    if client_id not in sb.clients:
        return _error_page("Unknown client_id.")
    if not redirect_uri or not _redirect_allowed(sb, client_id, redirect_uri):
        return _error_page("redirect_uri is missing or not registered for this app.")
    state = params.get("state") or ""
    problem = None
    if params.get("response_type") != "code":
        problem = ("unsupported_response_type", "response_type must be 'code'")
    elif len(state) < 8:
        problem = ("invalid_state", "state is required and must be at least 8 characters long")
    elif any(s not in SCOPES for s in (params.get("scope") or "").split()):
        problem = ("invalid_scope", "scope may only contain offline and analytics:read")
    elif params.get("code_challenge") and params.get("code_challenge_method", "plain") != "S256":
        problem = ("invalid_request", "only code_challenge_method=S256 is supported")
    elif params.get("code_challenge") and not PKCE_CHALLENGE.match(params["code_challenge"]):
        problem = ("invalid_request", "code_challenge must be the base64url SHA-256 of a verifier")
    elif params.get("code_challenge_method") and not params.get("code_challenge"):
        problem = ("invalid_request", "code_challenge_method without code_challenge")
    if problem:
        query = {"error": problem[0], "error_description": problem[1]}
        if state:
            query["state"] = state
        return redirect(_with_query(redirect_uri, query))
    return None


def authorize_page(sb: Sandbox, req: Request) -> Response:
    params = dict(req.query)
    return _check_params(sb, params) or _page(params)


def authorize_submit(sb: Sandbox, req: Request) -> Response:
    params = req.form()
    failure = _check_params(sb, params)
    if failure:
        return failure
    email = (params.get("email") or "").strip().lower()
    member = next((m for m in sb.world.members.values() if m.email == email), None)
    if member is None or not secrets.compare_digest(member.password, params.get("password", "")):
        return _page(params, "Wrong email or password.", email, status=401)
    code = secrets.token_urlsafe(24)
    sb.tokens.codes[code] = Grant(
        client_id=params["client_id"],
        member_id=member.id,
        organization_id=None,
        scope=params.get("scope") or "",
        family=uuid.uuid4().hex,
        redirect_uri=params["redirect_uri"],
        code_challenge=params.get("code_challenge") or None,
        expires_ms=sb.now_ms() + CODE_TTL_MS,
    )
    return redirect(_with_query(params["redirect_uri"], {"code": code, "state": params["state"]}))


def _client(req: Request, form: dict) -> str:
    if "client_secret" in form:
        raise OAuthError(
            401, "invalid_client",
            "Client credentials must be sent with HTTP Basic; the request body is not supported",
        )
    scheme, _, value = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError(401, "invalid_client", "HTTP Basic client authentication is required")
    try:
        client_id, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(401, "invalid_client", "Malformed HTTP Basic credentials") from None
    expected = Sandbox.clients.get(client_id)
    if expected is None or not secrets.compare_digest(expected, secret):
        raise OAuthError(401, "invalid_client", "Client authentication failed")
    return client_id


def _require(form: dict, name: str) -> str:
    value = form.get(name)
    if not value:
        raise OAuthError(400, "invalid_request", f"Missing required parameter: {name}")
    return value


def token(sb: Sandbox, req: Request) -> Response:
    form = req.form()
    client_id = _client(req, form)
    grant_type = form.get("grant_type")
    now = sb.now_ms()
    ttl = sb.token_ttl * 1000
    world = sb.world
    store = sb.tokens
    if grant_type == "member_app":
        member_id = _require(form, "member_id")
        if member_id not in world.members or f"member:{member_id}" not in world.app_installs:
            raise OAuthError(400, "invalid_grant", "The app is not installed for that member")
        grant = Grant(client_id, member_id, None, "", uuid.uuid4().hex)
        return json_response(store.issue(grant, ttl, now, with_refresh=False))
    if grant_type == "organization_app":
        org_id = _require(form, "organization_id")
        if f"organization:{org_id}" not in world.app_installs:
            raise OAuthError(400, "invalid_grant", "The app is not installed for that organization")
        grant = Grant(client_id, None, org_id, "", uuid.uuid4().hex)
        return json_response(store.issue(grant, ttl, now, with_refresh=False))
    if grant_type == "client_credentials":
        grant = Grant(client_id, None, None, "", uuid.uuid4().hex)
        return json_response(store.issue(grant, ttl, now, with_refresh=False))
    if grant_type == "authorization_code":
        code = _require(form, "code")
        redirect_uri = _require(form, "redirect_uri")
        grant = store.codes.get(code)
        if grant is None or grant.client_id != client_id:
            raise OAuthError(400, "invalid_grant", "Invalid authorization code")
        if grant.used:
            store.revoke_family(grant.family)
            raise OAuthError(
                400, "invalid_grant",
                "Authorization code already used; tokens granted with it are revoked",
            )
        if grant.expires_ms <= now:
            raise OAuthError(400, "invalid_grant", "Authorization code expired")
        if grant.redirect_uri != redirect_uri:
            raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization")
        verifier = form.get("code_verifier")
        if grant.code_challenge:
            if not verifier or not PKCE_VERIFIER.match(verifier):
                raise OAuthError(
                    400, "invalid_grant", "code_verifier must be 43-128 unreserved characters"
                )
            digest = hashlib.sha256(verifier.encode()).digest()
            computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not secrets.compare_digest(computed, grant.code_challenge):
                raise OAuthError(400, "invalid_grant", "PKCE code_verifier does not match")
        elif verifier is not None:  # RFC 7636 4.5: a verifier for a code issued without one
            raise OAuthError(400, "invalid_grant", "code_verifier sent, but no code_challenge was")
        grant.used = True
        offline = "offline" in grant.scope.split()
        return json_response(store.issue(grant, ttl, now, with_refresh=offline))
    if grant_type == "refresh_token":
        refresh = _require(form, "refresh_token")
        grant = store.refresh.pop(refresh, None)
        if grant is None or grant.client_id != client_id:
            raise OAuthError(400, "invalid_grant", "Invalid, used or revoked refresh token")
        return json_response(store.issue(grant, ttl, now, with_refresh=True))
    if not grant_type:
        raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type")
    raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}")
