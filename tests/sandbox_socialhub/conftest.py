"""Helpers for SocialHub sandbox tests: acting as a demo member, and the sandbox clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from empause.domain.timeutil import parse_time
from empause.sandbox.socialhub import seed
from empause.sandbox.socialhub.control import SocialHubControl
from empause.sandbox.socialhub.server import SocialHubSandboxServer


class Member:
    """Calls the API as one demo member (`?accesstoken=` added to every request)."""

    def __init__(self, control: SocialHubControl, token: str) -> None:
        self.control = control
        self.token = token

    def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.control.api(method, path, self.token, **kwargs)

    def post(self, text: str = "hello", in_hours: float = 1, then: str = "schedule",
             channel: str = seed.FACEBOOK_CHANNEL_ID, **content: Any) -> dict:  # fmt: skip
        when = now(self.control) + timedelta(hours=in_hours)
        return self.control.create_post(self.token, channel, text, when, then=then, **content)


@pytest.fixture
def control(socialhub: SocialHubSandboxServer) -> SocialHubControl:
    assert socialhub.control is not None
    return socialhub.control


@pytest.fixture
def admin(control: SocialHubControl) -> Member:
    return Member(control, seed.ACCOUNT_TOKEN)


@pytest.fixture
def em(control: SocialHubControl) -> Member:
    return Member(control, seed.EM_TOKEN)


@pytest.fixture
def staff(control: SocialHubControl) -> Member:
    return Member(control, seed.STAFF_TOKEN)


def now(control: SocialHubControl) -> datetime:
    return parse_time(control.clock()["now_precise"])


def ms(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def error(response: httpx.Response, status: int, code: str) -> dict:
    """The response is the spec's Error (or ValidationError) with this status and code."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["code"] == code and isinstance(body["message"], str) and body["message"]
    return dict(body)
