"""Accessibility: every page of the app and of the sandbox's planner passes axe-core with no
serious or critical violation, in light and dark color schemes; pause and resume work with
the keyboard alone, and every focus stop is visibly outlined.

Screenshots of every page and theme go to artifacts/screenshots/a11y-*.png.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from empause.sandbox import seed
from tests.web.browsing import (
    THEMES,
    check_page,
    focused,
    needs_chromium,
    new_page,
    shot,
    sign_in,
    sqlite_only,
    tab_to,
)

pytestmark = needs_chromium
async_api = pytest.importorskip("playwright.async_api")
pytest.importorskip("axe_playwright_python")
expect = async_api.expect
LONG = 60_000  # ms: a whole pause or resume against the small sandbox


@pytest.fixture
def app_overrides():
    """Pace the app as fast as `small_sandbox` allows."""
    return {"rate_limit": 200.0}


async def settled(page: Any, word: str) -> None:
    """The banner says `word` and the last operation is done (the page reloads itself)."""
    await expect(page.locator("#banner")).to_contain_text(word, timeout=LONG)
    await expect(page.locator("#op-status")).to_have_text("done", timeout=LONG)
    await expect(page.locator("#progress")).to_have_attribute("data-live", "idle", timeout=LONG)


@sqlite_only
@pytest.mark.parametrize("theme", THEMES)
async def test_every_page_passes_axe(small_sandbox, app_server, browser, theme):
    found: dict[str, str] = {}
    page = await new_page(browser, app_server.base_url, theme)

    # Signed out: the sign-in page, the sandbox's OAuth page, an error page.
    await page.goto("/")
    await check_page(page, "signin", theme, found)
    await page.get_by_role("link", name="Sign in with Hootsuite").click()
    await page.wait_for_url(re.compile(r"/oauth2/auth"))
    await check_page(page, "sandbox-oauth-sign-in", theme, found)
    await page.goto("/auth/callback?error=access_denied")
    await expect(page.locator("h1")).to_contain_text("Sign-in did not complete")
    await check_page(page, "error", theme, found)

    # The emergency member: dashboard, dialog, pause page and its problems, audit, keys.
    await sign_in(page, seed.EM_EMAIL)
    await expect(page.locator("#banner")).to_contain_text("NORMAL")
    await check_page(page, "em-dashboard-normal", theme, found)
    await page.locator("#pause-button").click()
    await expect(page.locator("#pause-dialog")).to_be_visible()
    await check_page(page, "em-pause-dialog", theme, found)
    await page.goto("/pause")
    await check_page(page, "em-pause-page", theme, found)
    await page.get_by_label("Reason").fill("Storm")
    await page.get_by_text("Options").click()
    await page.get_by_label(re.compile("Window to clear")).fill("forever")
    await page.get_by_label(re.compile("Type PAUSE")).fill("PAUSE")
    await page.locator("#pause-submit").click()
    await expect(page.locator("#problems")).to_be_visible()
    await check_page(page, "em-pause-problems", theme, found)
    await page.goto("/keys")
    await check_page(page, "em-keys", theme, found)
    await page.get_by_label("Name").fill("alerting")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.get_by_label("New key")).to_be_visible()
    await check_page(page, "em-keys-created", theme, found)

    await page.goto("/")
    await page.locator("#pause-button").click()
    await page.get_by_label("Reason").fill("Severe storm: emergency messaging only")
    await page.get_by_label(re.compile("Type PAUSE")).fill("PAUSE")
    await page.locator("#pause-dialog").get_by_role("button", name="Pause all scheduled posts").click()
    await settled(page, "PAUSED")
    await check_page(page, "em-dashboard-paused", theme, found)
    await page.goto("/audit")
    await expect(page.locator("#audit")).to_contain_text("pause.requested")
    await check_page(page, "em-audit", theme, found)
    await page.goto("/pause")
    await expect(page.locator("#already-paused")).to_be_visible()
    await check_page(page, "em-pause-page-paused", theme, found)
    await page.goto("/no-such-page")
    await check_page(page, "not-found", theme, found)

    # Staff, while paused: read-only dashboard, the refused pause page, the audit log.
    staff = await new_page(browser, app_server.base_url, theme)
    await sign_in(staff, seed.STAFF_EMAIL)
    await expect(staff.locator("#readonly-note")).to_be_visible()
    await check_page(staff, "staff-dashboard-paused", theme, found)
    await staff.goto("/pause")
    await check_page(staff, "staff-pause-refused", theme, found)
    await staff.goto("/keys")
    await check_page(staff, "staff-keys", theme, found)

    # The sandbox's planner: as it opens, refused input, a staff post held for approval.
    sandbox = app_server.sandbox.base_url
    await page.goto(sandbox + "/")
    await check_page(page, "sandbox-planner", theme, found)
    await page.get_by_label("Text").fill("Staff post while paused")
    await page.get_by_label("Social profile").select_option(seed.LINKEDIN_PROFILE_ID)
    await page.get_by_role("button", name="Schedule message").click()
    await expect(page.locator("#problem")).to_contain_text("not on any of their teams")
    await check_page(page, "sandbox-planner-problem", theme, found)
    await page.get_by_label("Social profile").select_option(seed.FACEBOOK_PROFILE_ID)
    await page.get_by_role("button", name="Schedule message").click()
    await expect(page.locator("#created")).to_contain_text("pending approval")
    await check_page(page, "sandbox-planner-created", theme, found)

    # Resumed.
    await page.goto(app_server.base_url + "/")
    await page.get_by_role("button", name="RESUME").click()
    await settled(page, "NORMAL")
    await check_page(page, "em-dashboard-resumed", theme, found)

    assert not found, "serious axe violations:\n" + "\n".join(
        f"[{name}]\n{text}" for name, text in found.items()
    )


@sqlite_only
async def test_pause_and_resume_with_the_keyboard_only(small_sandbox, app_server, browser):
    page = await new_page(browser, app_server.base_url)
    await sign_in(page, seed.EM_EMAIL)
    await expect(page.locator("#banner")).to_contain_text("NORMAL")
    await page.locator("body").focus()

    # Tab to the big button; Enter opens the dialog with the focus in Reason.
    await tab_to(page, lambda f: f["id"] == "pause-button")
    await shot(page, "kbd-01-pause-button-focused")
    await page.keyboard.press("Enter")
    await expect(page.locator("#pause-dialog")).to_be_visible()
    assert (await focused(page))["id"] == "reason"
    await page.keyboard.type("Keyboard-only pause")
    await tab_to(page, lambda f: f["id"] == "confirm")
    await page.keyboard.type("PAUSE")
    await tab_to(page, lambda f: f["id"] == "pause-submit")
    await shot(page, "kbd-02-pause-submit-focused")
    await page.keyboard.press("Enter")
    await settled(page, "PAUSED")
    await expect(page.locator("#banner")).to_contain_text("Keyboard-only pause")

    # Tab to the restore choice, pick "keep" with an arrow key, Tab to RESUME, Enter.
    await page.locator("body").focus()
    await tab_to(page, lambda f: f["name"] == "restore")
    await page.keyboard.press("ArrowDown")
    assert (await focused(page))["value"] == "keep"
    await tab_to(page, lambda f: f["id"] == "resume-button")
    await shot(page, "kbd-03-resume-focused")
    await page.keyboard.press("Enter")
    await settled(page, "NORMAL")
    await expect(page.locator("#op-kind")).to_have_text("Resume")


async def test_the_check_catches_a_broken_page(browser):
    """The harness itself: axe runs offline in the page and reports what it should."""
    page = await new_page(browser, "http://127.0.0.1:9")
    await page.set_content('<html><body><img src="x.png"><input></body></html>')
    found: dict[str, str] = {}
    await check_page(page, "self-test-broken", "light", found)
    rules = found["self-test-broken-light"]
    assert "image-alt (critical)" in rules and "label (critical)" in rules
    assert "html-has-lang (serious)" in rules
