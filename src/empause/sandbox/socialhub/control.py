"""A small synchronous client of the SocialHub sandbox's /_sandbox/ control API, plus a
helper that creates a post as a member would (post group -> PATCH -> schedule/suggest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from empause.sandbox.control import SandboxError
from empause.sandbox.world import format_time_ms

THEN = ("schedule", "suggest", "saveAsDraft")


class SocialHubControl:
    """Drives one SocialHub sandbox: reset, clock, faults, users, state, posts."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: dict | None = None) -> dict:
        response = self._http.post(path, json=body or {})
        if response.status_code >= 400:
            raise SandboxError(f"{path}: {response.status_code} {response.text}")
        return response.json()

    def reset(self, seed: str = "demo", posts: int = 300, rng: int = 7) -> dict:
        return self._post("/_sandbox/reset", {"seed": seed, "posts": posts, "rng": rng})

    def state(self) -> dict:
        response = self._http.get("/_sandbox/state")
        response.raise_for_status()
        return response.json()

    def clock(
        self, advance_seconds: float | None = None, now: str | None = None,
        frozen: bool | None = None,
    ) -> dict:  # fmt: skip
        body: dict = {}
        if advance_seconds is not None:
            body["advance_seconds"] = advance_seconds
        if now is not None:
            body["now"] = now
        if frozen is not None:
            body["frozen"] = frozen
        return self._post("/_sandbox/clock", body)

    def faults(self, **kwargs: object) -> dict:
        return self._post("/_sandbox/faults", kwargs)

    def set_teams(self, user_id: str, teams: list[str]) -> dict:
        return self._post(f"/_sandbox/users/{user_id}", {"teams": list(teams)})

    def demo(self) -> dict:
        return self.state()["demo"]

    def token(self, email: str | None = None) -> str:
        """A member's access token (by email), or the account's."""
        demo = self.demo()
        if email is None:
            return str(demo["access_token"])
        for member in demo["members"]:
            if member["email"] == email:
                return str(member["access_token"])
        raise SandboxError(f"no demo member {email!r}")

    # -- acting as a member ---------------------------------------------------------------
    def api(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        params = {**kwargs.pop("params", {}), "accesstoken": token}
        return self._http.request(method, path, params=params, **kwargs)

    def _ok(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise SandboxError(f"{response.request.method} {response.request.url.path}: "
                               f"{response.status_code} {response.text}")  # fmt: skip
        return response.json() if response.content else None

    def group_posts(self, token: str, group_id: str) -> list[dict]:
        body = self._ok(self.api("GET", "/cp/posts", token,
                                 params={"postGroupId": group_id, "count": 100}))  # fmt: skip
        return list(body["data"])

    def create_post(
        self, token: str, channel_id: str, text: str, publish_time: datetime | str,
        then: str = "schedule", **content: Any,
    ) -> dict:  # fmt: skip
        """As the member behind `token`: a post group on one channel, its post filled by
        PATCH, then `schedule`, `suggest` (for approval) or `saveAsDraft`; the post as now."""
        if then not in THEN:
            raise ValueError(f"then must be one of {THEN}")
        when = publish_time if isinstance(publish_time, str) else format_time_ms(publish_time)
        group = self._ok(self.api("POST", "/cp/postGroups", token,
                                  json={"channelIds": [channel_id]}))  # fmt: skip
        (post,) = self.group_posts(token, group["_id"])
        self._ok(self.api("PATCH", f"/cp/posts/{post['_id']}", token,
                          json={"content": {"text": text, **content}, "publishTime": when}))
        self._ok(self.api("POST", f"/cp/postGroups/{group['_id']}/{then}", token))
        (made,) = self.group_posts(token, group["_id"])
        return dict(made)
