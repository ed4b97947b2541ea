"""A low-level async client for SocialHub API2 (seed 002), shaped by what can go wrong.

Every request is paced by the account's shared rate limiter, authenticated with the
`?accesstoken=` query parameter, and mapped to the port's exceptions. Reads are retried with
exponential backoff and jitter on 5xx, 429 and connection trouble; a write (PATCH, POST) whose
request may have reached the server (timeout, dropped connection) is never blindly retried:
it raises Ambiguous, and the adapter reads the post back to learn what happened.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import httpx

from empause.platforms.port import Ambiguous, AuthError, NotFound, Permanent, Transient
from empause.platforms.ratelimit import Limiter, RateLimiter

TOKEN_PARAM = "accesstoken"
PAGE_MAX = 100  # the most posts one GET /cp/posts page may hold

# Never reached the server: safe to retry even a write.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Params = list[tuple[str, str | int | float | bool | None]]


class Conflict(Permanent):
    """409: the post's status does not allow the transition (the adapter reads it back)."""


def format_time_ms(value: datetime) -> str:
    """SocialHub's dates: UTC ISO-8601 to the millisecond, ending in 'Z'."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def describe(status: int, body: Any) -> str:
    """'Conflict: ...' / 'ValidationError: ... (publishTime: publishTimeNotInFuture)'."""
    if not isinstance(body, dict):
        return f"HTTP {status}"
    text = f"{body.get('code') or 'HTTP ' + str(status)}: {body.get('message') or ''}".rstrip()
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        reasons = "; ".join(
            f"{field}: {', '.join(map(str, why)) if isinstance(why, list) else why}"
            for field, why in errors.items()
        )
        text += f" ({reasons})"
    return text


def to_exception(status: int, body: Any, what: str) -> Permanent:
    message = f"{what}: {describe(status, body)}"
    if status in (401, 403):
        return AuthError(message, status=status)
    if status == 404:
        return NotFound(message, status=status)
    if status == 409:
        return Conflict(message, status=status)
    return Permanent(message, status=status)


class SocialHubClient:
    """Thin, careful access to one SocialHub account through one user's API token."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
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
        self._token = access_token
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
        self.rate_limited = 0

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    def _sleep_for(self, attempt: int) -> float:
        delay: float = min(self.backoff_max, self.backoff * 2**attempt)
        return delay * random.uniform(0.5, 1.0)

    async def request(
        self, method: str, path: str, *, params: Params | None = None, json: Any = None,
    ) -> Any:  # fmt: skip
        """Send one logical request; return the decoded body (None when empty)."""
        idempotent = method.upper() == "GET"
        url = f"{self.base_url}{path}"
        query: Params = [*(params or []), (TOKEN_PARAM, self._token)]
        what = f"{method} {path}"
        failures = limited = 0
        while True:
            await self.limiter.acquire()
            self.api_calls += 1
            try:
                response = await self.http.request(
                    method, url, params=query, json=json, timeout=self.timeout,
                    headers={"Accept": "application/json"},
                )  # fmt: skip
            except _NOT_SENT as exc:
                problem = f"{what}: {exc!r}"
            except httpx.TransportError as exc:  # sent, outcome unknown
                if not idempotent:
                    raise Ambiguous(f"{what} may have been applied: {exc!r}") from exc
                problem = f"{what}: {exc!r}"
            else:
                status = response.status_code
                body = _decode(response)
                if 200 <= status < 300:
                    return body
                if status == 429:
                    self.rate_limited += 1
                    self.limiter.block()
                    limited += 1
                    if limited > self.max_rate_limited:
                        raise Transient(f"{what}: still rate limited after {limited} tries")
                    continue  # the limiter holds every task until the window ends
                if status >= 500:
                    if status == 504 and not idempotent:
                        raise Ambiguous(f"{what} may have been applied: HTTP 504")
                    problem = f"{what}: {describe(status, body)}"
                else:
                    raise to_exception(status, body, what)
            failures += 1
            self.retries += 1
            if failures >= self.max_attempts:
                raise Transient(f"{problem} (gave up after {failures} attempts)")
            await asyncio.sleep(self._sleep_for(failures - 1))

    # -- directory --------------------------------------------------------------------------

    async def me(self) -> dict[str, Any]:
        body = await self.request("GET", "/")
        return body if isinstance(body, dict) else {}

    async def teams(self) -> list[dict[str, Any]]:
        return _objects(await self.request("GET", "/teams"))

    async def users(self) -> list[dict[str, Any]]:
        return _objects(await self.request("GET", "/users"))

    async def channels(self) -> list[dict[str, Any]]:
        return _objects(await self.request("GET", "/channels/summary"))

    # -- posts ------------------------------------------------------------------------------

    async def list_posts(
        self,
        *,
        statuses: Iterable[str] = (),
        channel_ids: Iterable[str] = (),
        post_group_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort_by: str = "publishTime",
        order: str = "asc",
        offset: int = 0,
        count: int = PAGE_MAX,
    ) -> tuple[int, list[dict[str, Any]]]:
        """One page of GET /cp/posts: the total matching, and the page's posts."""
        params: Params = [("sortBy", sort_by), ("order", order), ("offset", str(offset)),
                          ("count", str(count))]  # fmt: skip
        params += [("status[]", s) for s in statuses]
        params += [("channelIds[]", c) for c in channel_ids]
        if post_group_id:
            params.append(("postGroupId", post_group_id))
        if since is not None:
            params.append(("since", format_time_ms(since)))
        if until is not None:
            params.append(("until", format_time_ms(until)))
        body = await self.request("GET", "/cp/posts", params=params)
        if not isinstance(body, dict):
            raise Transient(f"GET /cp/posts: unexpected answer {str(body)[:200]}")
        return int(body.get("count") or 0), _objects(body.get("data"))

    async def update_post(self, post_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return _object(await self.request("PATCH", f"/cp/posts/{post_id}", json=fields))

    async def _action(self, post_id: str, action: str, json: Any = None) -> dict[str, Any]:
        return _object(await self.request("POST", f"/cp/posts/{post_id}/{action}", json=json))

    async def unschedule(self, post_id: str) -> dict[str, Any]:
        return await self._action(post_id, "unschedule")

    async def schedule(self, post_id: str) -> dict[str, Any]:
        return await self._action(post_id, "schedule")

    async def approve(self, post_id: str) -> dict[str, Any]:
        return await self._action(post_id, "approve")

    async def reject(self, post_id: str, message: str | None) -> dict[str, Any]:
        return await self._action(post_id, "reject", {"message": message} if message else {})


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value or [] if isinstance(item, dict)] if isinstance(
        value, list
    ) else []


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
