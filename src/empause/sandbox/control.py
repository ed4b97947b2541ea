"""A small synchronous client of the /_sandbox/ control API, plus token and message helpers."""

from __future__ import annotations

import httpx

from empause.sandbox.seed import CLIENT_ID, CLIENT_SECRET, ORG_ID


class SandboxError(RuntimeError):
    """The control API refused a request."""


class SandboxControl:
    """Drives one sandbox: reset, clock, faults, webhooks, members, tokens, state."""

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

    def reset(
        self, seed: str = "demo", messages: int = 300, rng: int = 7, organizations: int = 1
    ) -> dict:
        return self._post(
            "/_sandbox/reset",
            {"seed": seed, "messages": messages, "rng": rng, "organizations": organizations},
        )

    def state(self) -> dict:
        response = self._http.get("/_sandbox/state")
        response.raise_for_status()
        return response.json()

    def clock(
        self, advance_seconds: float | None = None, now: str | None = None,
        frozen: bool | None = None,
    ) -> dict:
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

    def register_webhook(self, url: str) -> dict:
        return self._post("/_sandbox/webhooks", {"url": url})

    def register_redirect_uri(self, uri: str) -> dict:
        """Allow the app's OAuth callback, as its Security settings would upstream."""
        return self._post("/_sandbox/redirect-uris", {"uri": uri})

    def set_member(
        self, member_id: str, needs_approval: bool | None = None, teams: list[str] | None = None
    ) -> dict:
        body: dict = {}
        if needs_approval is not None:
            body["needs_approval"] = needs_approval
        if teams is not None:
            body["teams"] = list(teams)
        return self._post(f"/_sandbox/members/{member_id}", body)["data"]

    def install_app_stream(self, name: str, url: str, secret: str) -> dict:
        """Install an app stream in every member's dashboard (App Directory install)."""
        return self._post("/_sandbox/app-streams", {"name": name, "url": url, "secret": secret})

    def expire_tokens(self) -> dict:
        return self._post("/_sandbox/tokens/expire")

    def token(self, member_id: str | None = None, organization_id: str | None = None) -> str:
        """An access token via member_app (or organization_app; the demo org by default)."""
        if member_id is not None:
            form = {"grant_type": "member_app", "member_id": member_id}
        else:
            form = {"grant_type": "organization_app", "organization_id": organization_id or ORG_ID}
        response = self._http.post("/oauth2/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))
        if response.status_code != 200:
            raise SandboxError(f"/oauth2/token: {response.status_code} {response.text}")
        return response.json()["access_token"]

    def create_message(self, token: str, **fields: object) -> dict:
        """POST /v1/messages; returns the first created message (one per profile)."""
        response = self._http.post(
            "/v1/messages", json=fields, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code != 200:
            raise SandboxError(f"/v1/messages: {response.status_code} {response.text}")
        return response.json()["data"][0]
