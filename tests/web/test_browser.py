"""Browser tests: Debian's chromium, driven by Playwright over real HTTP (app + sandbox on
loopback). Screenshots of each screen go to artifacts/screenshots/.

Never downloads a browser: without /usr/bin/chromium these are skipped
(install it with `apt-get install chromium`).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from empause.sandbox import seed
from tests.web.helpers import api_status, csrf, settled, signed_in, wait_for

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="browser tests need Debian's chromium: apt-get install chromium",
    ),
]

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    # Async Playwright: the sync API keeps an event loop running in the main thread, which
    # the database fixtures (asyncio.run) cannot share.
    async with async_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(small_sandbox, app_server, browser) -> AsyncIterator[Any]:
    context = await browser.new_context(
        base_url=app_server.base_url, viewport={"width": 1200, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(20_000)
    yield page
    await context.close()


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def sign_in(page: Any, email: str, shot_name: str | None = None) -> None:
    await page.goto("/")
    await page.get_by_role("link", name="Sign in with Hootsuite").click()
    await page.wait_for_url(re.compile(r"/oauth2/auth"))
    if shot_name:
        await shot(page, shot_name)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(seed.DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in and allow").click()
    await page.wait_for_selector("#banner")


async def goto_dashboard(page: Any) -> None:
    """Open the dashboard; the open page may be reloading itself there as the state settles,
    which interrupts our navigation: then the page is where we wanted it anyway."""
    try:
        await page.goto("/")
    except Exception as exc:
        if not any(s in str(exc) for s in ("interrupted by another navigation", "ERR_ABORTED")):
            raise
        await page.wait_for_load_state()


async def off_loop(function: Any, *args: Any) -> Any:
    """Blocking helpers (sync HTTP, polling) run in a thread, so Playwright keeps talking."""
    return await asyncio.to_thread(function, *args)


@pytest.fixture
def app_overrides():
    """Pace the app as fast as `small_sandbox` allows."""
    return {"rate_limit": 200.0}


async def test_emergency_member_pauses_watches_progress_and_resumes(page, app_server):
    await sign_in(page, seed.EM_EMAIL, "01-sandbox-sign-in")
    await expect(page.locator("#banner")).to_contain_text("NORMAL")
    await shot(page, "02-dashboard-normal")

    await page.locator("#pause-button").click()
    dialog = page.locator("#pause-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.get_by_label("Reason")).to_be_focused()  # keyboard users start typing at once
    await page.get_by_label("Reason").fill("Severe storm: all channels on emergency messaging")
    await page.get_by_label("Type PAUSE to confirm").fill("PAUSE")
    await shot(page, "03-pause-dialog")
    await dialog.get_by_role("button", name="Pause all scheduled posts").click()

    # Progress streams in over SSE; the page reloads itself when the work settles.
    await expect(page.locator("#banner")).to_contain_text("PAUSED", timeout=60_000)
    await expect(page.locator("#op-status")).to_have_text("done", timeout=60_000)
    await expect(page.locator("#progress-percent")).to_have_text("100")
    await expect(page.locator("#banner")).to_contain_text("Severe storm")
    moved = page.locator("#moved tbody tr")
    assert await moved.count() > 0
    await expect(moved.first).to_contain_text("created")
    await shot(page, "04-dashboard-paused-progress-moved")

    await page.get_by_label(re.compile("Restore original times")).check()
    await page.get_by_role("button", name="RESUME").click()
    await expect(page.locator("#banner")).to_contain_text("NORMAL", timeout=60_000)
    await expect(page.locator("#op-kind")).to_have_text("Resume", timeout=60_000)
    await expect(page.locator("#op-status")).to_have_text("done", timeout=60_000)
    await expect(page.locator("#moved tbody tr").first).to_contain_text("restored")
    await shot(page, "05-dashboard-resumed")

    await page.get_by_role("link", name="Audit log").click()
    await expect(page.locator("#audit")).to_contain_text("pause.requested")
    await shot(page, "06-audit-log")


async def test_staff_sees_the_banner_no_controls_and_a_forged_post_is_refused(page, app_server):
    def pause_as_em() -> None:
        em = signed_in(app_server.base_url, seed.EM_EMAIL)
        form = {"reason": "Data breach", "confirm": "PAUSE", "csrf_token": csrf(em)}
        assert em.post("/pause", data=form).status_code == 303
        # Settled, not just flagged: the page reloads itself when a running pause settles,
        # which would race this test's own navigation.
        wait_for(lambda: 'data-live="idle"' in (html := em.get("/").text) and "PAUSED" in html)

    await off_loop(pause_as_em)

    await sign_in(page, seed.STAFF_EMAIL)
    await expect(page.locator("#banner")).to_contain_text("PAUSED")
    await expect(page.locator("#banner")).to_contain_text("Data breach")
    await expect(page.locator("#readonly-note")).to_be_visible()
    assert await page.locator("#pause-button").count() == 0
    assert await page.locator("#resume-form").count() == 0
    assert await page.get_by_role("button", name="RESUME").count() == 0
    await shot(page, "07-staff-read-only-paused")

    # A forged POST from the staff member's own browser, with their valid CSRF token.
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = await page.request.post(
        "/resume", form={"csrf_token": token, "restore": "original"}, max_redirects=0
    )
    assert answer.status == 403
    assert "emergency team" in await answer.text()
    await page.goto("/")
    await expect(page.locator("#banner")).to_contain_text("PAUSED")


async def test_an_api_key_pauses_and_resumes(page, app_server):
    await sign_in(page, seed.EM_EMAIL)
    await page.get_by_role("link", name="API keys").click()
    await page.get_by_label("Name").fill("alerting")
    await page.get_by_role("button", name="Create key").click()
    key = await page.get_by_label("New key").input_value()
    assert key.startswith("emp_")
    await shot(page, "08-api-key-created")

    base, headers = app_server.base_url, {"Authorization": f"Bearer {key}"}
    api = httpx.AsyncClient(base_url=base, headers=headers)
    answer = await api.post("/api/pause", json={"reason": "Alert: shelter in place"})
    assert answer.status_code == 202
    await off_loop(wait_for, lambda: (s := api_status(base, key))["paused"] and settled(s))
    await goto_dashboard(page)
    await expect(page.locator("#banner")).to_contain_text("Alert: shelter in place")
    await expect(page.locator("#banner")).to_contain_text("api-key:alerting")
    await shot(page, "09-paused-by-api-key")

    answer = await api.post("/api/resume", json={"restore": "keep"})
    assert answer.status_code == 202
    await off_loop(wait_for, lambda: not (s := api_status(base, key))["paused"] and settled(s))
    await goto_dashboard(page)
    await expect(page.locator("#banner")).to_contain_text("NORMAL")

    await page.goto("/keys")
    await page.get_by_role("button", name="Revoke key alerting").click()
    await expect(page.locator("#keys")).to_contain_text("revoked")
    await shot(page, "10-api-key-revoked")
    assert (await api.get("/api/status")).status_code == 401
    await api.aclose()


async def test_a_copied_cookie_is_refused_after_sign_out(page, app_server, browser):
    await sign_in(page, seed.EM_EMAIL)
    cookies = await page.context.cookies()
    session = [c for c in cookies if c["name"] == "empause_session"]
    assert session and session[0]["httpOnly"]
    thief = await browser.new_context(base_url=app_server.base_url)
    await thief.add_cookies(session)
    stolen = await thief.new_page()
    await stolen.goto("/")
    await expect(stolen.locator("#banner")).to_be_visible()  # the copy works while signed in

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("link", name="Sign in with Hootsuite")).to_be_visible()
    await stolen.goto("/")
    await expect(stolen.get_by_role("link", name="Sign in with Hootsuite")).to_be_visible()
    await expect(stolen.locator("#banner")).to_have_count(0)
    await shot(stolen, "11-copied-cookie-after-sign-out")
    await thief.close()
