"""A low-level async client for the Hootsuite REST API (v1), shaped by what can go wrong.

Every request is paced by the account's rate limiter (one per process, or shared by every
process through PostgreSQL: platforms.budget), authenticated with a bearer
token from a provider (asked once for a fresh token after a 401/403), unwrapped from the
`data` envelope, and mapped to the port's exceptions. Reads and DELETE are retried with
exponential backoff and jitter; a POST that may have reached the server (timeout, dropped
connection) is never blindly retried: it raises Ambiguous and the caller checks upstream.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

import httpx

from empause.domain.timeutil import format_time
from empause.platforms.hootsuite import envelope
from empause.platforms.port import Ambiguous, AuthError, NotFound, Transient
from empause.platforms.ratelimit import Limiter, RateLimiter

# Called with None for the current token, or with the token the server just refused
# (then it must return a different, fresh one if it can).
TokenProvider = Callable[[str | None], Awaitable[str]]

# Never reached the server: safe to retry even a POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class HootsuiteClient:
    """Thin, careful access to one Hootsuite account; one instance per token provider."""

    def __init__(
        self,
        base_url: str,
        token_provider: TokenProvider,
        *,
        http: httpx.AsyncClient | None = None,
        limiter: Limiter | None = None,
        timeout: float = 10.0,
        max_attempts: int = 5,
        max_rate_limited: int = 20,
        backoff: float = 0.1,
        backoff_max: float = 2.0,
    ):
        self.base_url = base_url.rstrip("/")
        self._token_provider = token_provider
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=timeout)
        self.limiter: Limiter = limiter or RateLimiter()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_rate_limited = max_rate_limited
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.api_calls = 0  # every HTTP request sent, retries included
        self.retries = 0
        self.rate_limited = 0  # 429s seen (should stay 0 when pacing works)

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    # -- the one request path -------------------------------------------------------------

    def _sleep_for(self, attempt: int) -> float:
        delay: float = min(self.backoff_max, self.backoff * 2**attempt)
        return delay * random.uniform(0.5, 1.0)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        idempotent: bool | None = None,
        gone_ok_after_ambiguous: bool = False,
    ) -> Any:
        """Send one logical request; return the decoded body (None when empty).

        `idempotent` defaults to True for everything but POST. With
        `gone_ok_after_ambiguous`, a 404 that follows an attempt whose outcome we never saw
        means that attempt succeeded (DELETE), so None is returned instead of NotFound.
        """
        if idempotent is None:
            idempotent = method.upper() != "POST"
        url = f"{self.base_url}{path}"
        failures = 0
        limited = 0
        refused: str | None = None
        reauthorised = False
        unseen_outcome = False
        while True:
            token = await self._token_provider(refused)
            sent_at = await self.limiter.acquire()
            self.api_calls += 1
            try:
                response = await self.http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=self.timeout,
                )
            except _NOT_SENT as exc:
                problem = f"{method} {path}: {exc!r}"
            except httpx.TransportError as exc:  # sent, outcome unknown
                if not idempotent:
                    raise Ambiguous(f"{method} {path} may have been applied: {exc!r}") from exc
                unseen_outcome = True
                problem = f"{method} {path}: {exc!r}"
            else:
                self.limiter.observe_headers(response.headers, sent_at)
                status = response.status_code
                body = _decode(response)
                if 200 <= status < 300 and not (envelope.errors_of(body) and not body.get("data")):
                    return body
                if status in (401, 403):
                    if reauthorised:
                        raise AuthError(_describe(status, body), status=status)
                    reauthorised, refused = True, token
                    continue
                if status == 429:
                    self.rate_limited += 1
                    self.limiter.block()
                    limited += 1
                    if limited > self.max_rate_limited:
                        raise Transient(
                            f"{method} {path}: still rate limited after {limited} tries"
                        )
                    continue  # the limiter holds us until the window ends
                if status >= 500:
                    if status == 504 and not idempotent:
                        raise Ambiguous(f"{method} {path} may have been applied: HTTP 504")
                    problem = f"{method} {path}: HTTP {status} {_describe(status, body)}"
                else:
                    error = envelope.to_exception(status, body)
                    if isinstance(error, NotFound) and gone_ok_after_ambiguous and unseen_outcome:
                        return None
                    raise error
            failures += 1
            self.retries += 1
            if failures >= self.max_attempts:
                raise Transient(f"{problem} (gave up after {failures} attempts)")
            await asyncio.sleep(self._sleep_for(failures - 1))

    async def _get_one(self, path: str, params: Any = None) -> dict[str, Any]:
        return envelope.data_one(await self.request("GET", path, params=params))

    async def _get_all(
        self, path: str, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a collection, following cursors."""
        items: list[dict[str, Any]] = []
        query = dict(params or {})
        while True:
            body = await self.request("GET", path, params=query)
            items.extend(envelope.data_list(body))
            cursor = envelope.next_cursor(body)
            if not cursor:
                return items
            query["cursor"] = cursor

    # -- messages ---------------------------------------------------------------------------

    async def list_messages(
        self,
        start: datetime,
        end: datetime,
        state: str | None = None,
        social_profile_ids: Iterable[str] | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of outbound messages in [start, end) (≤ 4 weeks), and the next cursor."""
        params: list[tuple[str, str]] = [
            ("startTime", format_time(start)),
            ("endTime", format_time(end)),
            ("limit", str(limit)),
        ]
        if state:
            params.append(("state", state))
        params.extend(("socialProfileIds", str(p)) for p in social_profile_ids or ())
        if cursor:
            params.append(("cursor", cursor))
        body = await self.request("GET", "/v1/messages", params=params)
        return envelope.data_list(body), envelope.next_cursor(body)

    async def get_message(self, message_id: str) -> dict[str, Any]:
        """The message (raises NotFound)."""
        message = await self._get_one(f"/v1/messages/{message_id}")
        if not message:
            raise NotFound(f"message {message_id} not found", status=404)
        return message

    async def create_message(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Schedule a message; one created message per social profile. May raise Ambiguous."""
        return envelope.data_list(await self.request("POST", "/v1/messages", json=body))

    async def delete_message(self, message_id: str) -> None:
        """Delete; a 404 right after an attempt whose answer was lost counts as done."""
        await self.request("DELETE", f"/v1/messages/{message_id}", gone_ok_after_ambiguous=True)

    async def approve_message(
        self, message_id: str, sequence_number: int, reviewer_type: str = "MEMBER"
    ) -> None:
        body = {"sequenceNumber": int(sequence_number), "reviewerType": reviewer_type}
        await self.request("POST", f"/v1/messages/{message_id}/approve", json=body)

    async def reject_message(
        self, message_id: str, sequence_number: int, reason: str, reviewer_type: str = "MEMBER"
    ) -> None:
        body = {
            "sequenceNumber": int(sequence_number),
            "reason": reason,
            "reviewerType": reviewer_type,
        }
        await self.request("POST", f"/v1/messages/{message_id}/reject", json=body)

    async def message_history(self, message_id: str) -> list[dict[str, Any]]:
        """The prescreening review actions, oldest first."""
        data = await self._get_one(f"/v1/messages/{message_id}/history")
        return [a for a in data.get("actions") or [] if isinstance(a, dict)]

    # -- members, organizations, teams, profiles -------------------------------------------

    async def me(self) -> dict[str, Any]:
        return await self._get_one("/v1/me")

    async def me_organizations(self) -> list[dict[str, Any]]:
        return await self._get_all("/v1/me/organizations")

    async def me_social_profiles(self) -> list[dict[str, Any]]:
        return await self._get_all("/v1/me/socialProfiles")

    async def member(self, member_id: str) -> dict[str, Any]:
        return await self._get_one(f"/v1/members/{member_id}")

    async def member_organizations(self, member_id: str) -> list[dict[str, Any]]:
        return await self._get_all(f"/v1/members/{member_id}/organizations")

    async def organization_members(self, organization_id: str) -> list[dict[str, Any]]:
        return await self._get_all(f"/v1/organizations/{organization_id}/members")

    async def organization_member_teams(
        self, organization_id: str, member_id: str
    ) -> list[dict[str, Any]]:
        return await self._get_all(f"/v1/organizations/{organization_id}/members/{member_id}/teams")

    async def organization_teams(self, organization_id: str) -> list[dict[str, Any]]:
        return await self._get_all(f"/v1/organizations/{organization_id}/teams")

    async def team_members(self, organization_id: str, team_id: str) -> list[dict[str, Any]]:
        return await self._get_all(f"/v1/organizations/{organization_id}/teams/{team_id}/members")

    async def team(self, team_id: str) -> dict[str, Any]:
        return await self._get_one(f"/v1/teams/{team_id}")

    async def social_profiles(self) -> list[dict[str, Any]]:
        return await self._get_all("/v1/socialProfiles")


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _describe(status: int, body: Any) -> str:
    errors = envelope.errors_of(body)
    if errors:
        return str(errors[0].get("message") or f"HTTP {status}")
    if isinstance(body, dict) and body.get("error"):
        return f"{body.get('error')}: {body.get('error_description') or ''}".rstrip(": ")
    return f"HTTP {status}"
