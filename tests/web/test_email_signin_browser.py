"""Sign in by emailed link in a real browser (Debian's chromium): ask for the link, read it
from the SMTP server the app mailed it through, open it, and land on the dashboard of the
SocialHub organization with the controls; axe-core checks each new page."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from empause.sandbox.socialhub import seed as sh_seed
from tests.web.browsing import (
    THEMES,
    describe,
    needs_chromium,
    new_page,
    serious_violations,
    shot,
    sqlite_only,
)
from tests.web.socialhub_app import link_in

pytestmark = [*needs_chromium, sqlite_only]
pytest.importorskip("playwright.async_api")


async def no_serious_violations(page: Any, name: str) -> None:
    """axe-core on the page as it is, in each color scheme."""
    for theme in THEMES:
        await page.emulate_media(color_scheme=theme)
        await shot(page, f"email-signin-{name}-{theme}")
        bad = await serious_violations(page)
        assert not bad, f"{name} ({theme}): {describe(bad)}"
    await page.emulate_media(color_scheme="light")


async def test_sign_in_link_in_a_real_browser(sh_app, browser):
    page = await new_page(browser, sh_app.base_url)
    await page.goto("/")
    await page.get_by_role("link", name="Sign in with an email link").click()
    await page.wait_for_url(re.compile(r"/auth/email$"))
    await no_serious_violations(page, "ask")
    await page.get_by_label("Email").fill(sh_seed.EM_EMAIL)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    await no_serious_violations(page, "sent")

    link = await asyncio.to_thread(link_in, sh_app.mail, sh_seed.EM_EMAIL)
    await page.goto(link)
    await page.get_by_role("heading", name=f"Sign in as {sh_seed.EM_EMAIL}").wait_for()
    await no_serious_violations(page, "confirm")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_selector("#banner")
    assert page.url == sh_app.base_url + "/"
    assert await page.locator("#pause-button").count() == 1  # the emergency team's controls
    assert "NORMAL" in await page.locator("#banner").inner_text()
    await shot(page, "email-signin-dashboard")

    await page.goto(link)  # used: the same link does not sign in twice
    assert "expired, was already used" in await page.content()
