"""Drive the sign-in like a browser would, over real HTTP, and read the app's pages."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from empause.sandbox import seed

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, follow_redirects=False, timeout=15)


def sign_in(
    base_url: str, email: str, password: str = seed.DEMO_PASSWORD
) -> tuple[httpx.Client, httpx.Response]:
    """Start at the app, sign in on the sandbox's page, come back; returns the callback's answer."""
    browser = client(base_url)
    start = browser.get("/auth/login")
    assert start.status_code == 303, start.text
    login_page = httpx.get(start.headers["location"], timeout=15)
    assert login_page.status_code == 200, login_page.text
    form = dict(_HIDDEN.findall(login_page.text))
    form.update(email=email, password=password)
    authorize = str(httpx.URL(start.headers["location"]).copy_with(query=None))
    granted = httpx.post(authorize, data=form, timeout=15, follow_redirects=False)
    assert granted.status_code in (302, 303), granted.text
    return browser, browser.get(granted.headers["location"])


def signed_in(base_url: str, email: str) -> httpx.Client:
    browser, answer = sign_in(base_url, email)
    assert answer.status_code == 303, answer.text
    return browser


def csrf(browser: httpx.Client, path: str = "/") -> str:
    page = browser.get(path)
    assert page.status_code == 200, page.text
    match = _CSRF.search(page.text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def create_api_key(browser: httpx.Client, name: str = "alerting") -> str:
    page = browser.post("/keys", data={"csrf_token": csrf(browser, "/keys"), "name": name})
    assert page.status_code == 201, page.text
    match = re.search(r'id="new-key" readonly value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def wait_for(predicate: Any, timeout: float = 60.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last: {last!r})")


def api_status(base_url: str, key: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{base_url}/api/status", headers={"Authorization": f"Bearer {key}"}, timeout=15
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def settled(status: dict[str, Any]) -> bool:
    op = status.get("operation")
    return bool(op) and not op["running"] and not status.get("busy")
