"""The app protecting the SocialHub sandbox's account, with mail going to a real SMTP server
(aiosmtpd on 127.0.0.1): fixtures `mail_sink` and `sh_app`, and helpers that sign in by
emailed link over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from empause.config import Settings
from empause.notify.sink import MailSink
from empause.sandbox.socialhub import seed as sh_seed
from empause.sandbox.socialhub.server import SocialHubSandboxServer
from empause.web.app import create_app
from empause.web.server import ServerThread, bind
from tests.web.helpers import client

MAIL_FROM = "empause@example.org"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/auth/email/link\?token=[A-Za-z0-9_-]+)")
_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@dataclass
class SocialHubApp:
    base_url: str
    settings: Settings
    app: FastAPI
    socialhub: SocialHubSandboxServer
    mail: MailSink


def socialhub_settings(sandbox_url: str, database_url: str, public_url: str, smtp_url: str):
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        platform="socialhub",
        socialhub_base_url=sandbox_url,
        socialhub_access_token=sh_seed.ACCOUNT_TOKEN,
        organization_id=sh_seed.ACCOUNT_ID,
        emergency_team_id=sh_seed.EM_TEAM_ID,
        public_url=public_url,
        webhook_secret="test-webhook-secret",
        secret_key="test-secret-key-for-the-web-app-fixture",
        sweep_interval=timedelta(minutes=5),
        smtp_url=smtp_url,
        mail_from=MAIL_FROM,
    )


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    with MailSink() as sink:
        yield sink


@pytest.fixture
def sh_app(socialhub, database_url: str, mail_sink: MailSink) -> Iterator[SocialHubApp]:
    socialhub.control.reset(seed="demo", posts=40, rng=7)
    socialhub.control.faults(rate_limit=1000)
    sock = bind("127.0.0.1", 0)
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = socialhub_settings(socialhub.base_url, database_url, public_url, mail_sink.url)
    app = create_app(settings)
    with ServerThread(app, sock) as server:
        yield SocialHubApp(server.base_url, settings, app, socialhub, mail_sink)


def ask_for_link(base_url: str, email: str) -> httpx.Response:
    answer = client(base_url).post("/auth/email", data={"email": email})
    assert answer.status_code == 200, answer.text
    return answer


def link_in(mail_sink: MailSink, email: str, count: int = 1) -> str:
    mail = mail_sink.wait_for(email, count=count)
    found = LINK.search(mail.text)
    assert found, mail.text
    return found.group(1)


def use_link(link: str) -> tuple[httpx.Client, httpx.Response]:
    """Open the link (a confirm page), press its button; returns the browser and answer."""
    url = httpx.URL(link)
    browser = client(f"{url.scheme}://{url.host}:{url.port}")
    page = browser.get(link)
    assert page.status_code == 200, page.text
    token = _TOKEN.search(page.text)
    assert token
    return browser, browser.post("/auth/email/link", data={"token": token.group(1)})


def email_signed_in(app: SocialHubApp, email: str) -> httpx.Client:
    ask_for_link(app.base_url, email)
    browser, answer = use_link(link_in(app.mail, email))
    assert answer.status_code == 303 and answer.headers["location"] == "/", answer.text
    return browser
