"""Hootsuite OAuth2: authorization code (+PKCE), rotating refresh tokens, app tokens.

Client credentials go in HTTP Basic only; Hootsuite refuses them in the body. Two traps shape
this module: a code used twice revokes every token it granted (so `exchange_code` never
retries), and refresh tokens are single-use (so `refresh` persists the new pair before anyone
can use it, invariant 7).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from empause.domain.timeutil import utcnow
from empause.platforms.port import Ambiguous, AuthError, Transient

TOKEN_PATH = "/oauth2/token"
AUTHORIZE_PATH = "/oauth2/auth"
_APP_TOKEN_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What the token endpoint granted, with the expiry made absolute."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scope: str = ""
    member_id: str | None = None

    def expired(self, skew: timedelta = timedelta(seconds=60), now: datetime | None = None) -> bool:
        """True when the token is expired or about to (skew covers clock drift and latency)."""
        return (now or utcnow()) >= self.expires_at - skew


class OAuthError(AuthError):
    """The token endpoint refused: `error` and `description` are the RFC 6749 fields."""

    def __init__(
        self, error: str, description: str, code: int | None = None, status: int | None = None
    ):
        text = ": ".join(part for part in (error or f"HTTP {status}", description) if part)
        super().__init__(text, code=code, status=status)
        self.error = error
        self.description = description


def make_pkce() -> tuple[str, str]:
    """A PKCE (verifier, S256 challenge) pair for one authorization."""
    verifier = secrets.token_urlsafe(64)  # 86 chars, within RFC 7636's 43..128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def authorization_url(
    base_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    scope: str = "offline",
) -> str:
    """Where to send the browser to sign in to Hootsuite."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{base_url.rstrip('/')}{AUTHORIZE_PATH}?{query}"


def _token_set(payload: dict[str, Any], member_id: str | None = None) -> TokenSet:
    data = payload.get("data", payload) if isinstance(payload, dict) else {}
    if not isinstance(data, dict) or not data.get("access_token"):
        raise AuthError("token endpoint answered without an access_token")
    expires_in = float(data.get("expires_in") or 3599)
    return TokenSet(
        access_token=str(data["access_token"]),
        refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
        expires_at=utcnow() + timedelta(seconds=expires_in),
        scope=str(data.get("scope") or ""),
        member_id=str(data["member_id"]) if data.get("member_id") else member_id,
    )


def _auth_error(response: httpx.Response) -> OAuthError:
    """The RFC 6749 error and description (or Hootsuite's errors envelope) as an AuthError."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    error, description, code = "", "", None
    if isinstance(body, dict):
        error = str(body.get("error") or "")
        description = str(body.get("error_description") or "")
        errors = body.get("errors")
        if not error and isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code = errors[0].get("code")
            description = str(errors[0].get("message") or "")
    return OAuthError(error, description, code=code, status=response.status_code)


async def _post_token(
    http: httpx.AsyncClient,
    base_url: str,
    client_id: str,
    client_secret: str,
    form: dict[str, str],
) -> httpx.Response:
    """One POST to the token endpoint. Sent-but-unanswered is Ambiguous: never blind-retry."""
    url = f"{base_url.rstrip('/')}{TOKEN_PATH}"
    try:
        return await http.post(url, data=form, auth=httpx.BasicAuth(client_id, client_secret))
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise Transient(f"token endpoint unreachable: {exc!r}") from exc
    except httpx.TransportError as exc:
        raise Ambiguous(f"token request may have been applied: {exc!r}") from exc


def _check(response: httpx.Response) -> dict[str, Any]:
    if response.status_code == 429 or response.status_code >= 500:
        raise Transient(f"token endpoint answered {response.status_code}")
    if response.status_code != 200:
        raise _auth_error(response)
    try:
        body: dict[str, Any] = response.json()
        return body
    except ValueError as exc:
        raise Transient("token endpoint answered with invalid JSON") from exc


async def exchange_code(
    http: httpx.AsyncClient,
    base_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> TokenSet:
    """Trade an authorization code for tokens. Exactly one attempt: reuse revokes the grant."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    response = await _post_token(http, base_url, client_id, client_secret, form)
    return _token_set(_check(response))


async def refresh(
    http: httpx.AsyncClient,
    base_url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    persist: Callable[[TokenSet], Awaitable[None]],
) -> TokenSet:
    """Rotate the refresh token; `persist` the new pair before returning it (invariant 7).

    The old refresh token is dead once the server answers, so losing the new one locks the
    member out: if `persist` fails, the exception propagates and the token is not handed out.
    Not retried after the request was sent (the old token may already be spent).
    """
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    response = await _post_token(http, base_url, client_id, client_secret, form)
    tokens = _token_set(_check(response))
    await persist(tokens)
    return tokens


async def _app_token(
    http: httpx.AsyncClient,
    base_url: str,
    client_id: str,
    client_secret: str,
    form: dict[str, str],
    member_id: str | None = None,
) -> TokenSet:
    """App tokens are safe to ask for again, so transient failures are retried briefly."""
    for attempt in range(_APP_TOKEN_ATTEMPTS):
        try:
            response = await _post_token(http, base_url, client_id, client_secret, form)
            return _token_set(_check(response), member_id=member_id)
        except (Transient, Ambiguous):
            if attempt == _APP_TOKEN_ATTEMPTS - 1:
                raise
            await asyncio.sleep(min(2.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable")


async def organization_app_token(
    http: httpx.AsyncClient, base_url: str, client_id: str, client_secret: str, organization_id: str
) -> TokenSet:
    """A token acting for the organization that installed the app (no browser, no refresh)."""
    form = {"grant_type": "organization_app", "organization_id": str(organization_id)}
    return await _app_token(http, base_url, client_id, client_secret, form)


async def member_app_token(
    http: httpx.AsyncClient, base_url: str, client_id: str, client_secret: str, member_id: str
) -> TokenSet:
    """A token acting for one member who installed the app (e.g. to approve as that member)."""
    form = {"grant_type": "member_app", "member_id": str(member_id)}
    return await _app_token(http, base_url, client_id, client_secret, form, member_id=member_id)
