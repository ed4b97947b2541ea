"""Instant feedback (issue 14, part 1): after the typed confirmation the dashboard shows the
operation within a second (its phase, a progress bar with counts, the soonest items being
made safe) and the banner says PAUSING… at once, then PAUSED when everything is safe."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from empause.sandbox import seed
from tests.web.browsing import needs_chromium, new_page, shot, sign_in, sqlite_only

pytestmark = [*needs_chromium, sqlite_only]
FEEDBACK_SECONDS = 1.0  # the bound, from the click to the progress on screen
SLOW_DELETE_MS = 250  # each delete upstream takes this long, so the pause lasts a while


@pytest.fixture
def app_overrides():
    return {"rate_limit": 200.0}


async def test_progress_shows_within_a_second_and_the_banner_flips(
    small_sandbox, app_server, browser
):
    from playwright.async_api import expect

    small_sandbox.control.faults(
        routes={"DELETE /v1/messages/{messageId}": {"latency_ms": SLOW_DELETE_MS}}
    )
    page: Any = await new_page(browser, app_server.base_url)
    await sign_in(page, seed.EM_EMAIL)
    await expect(page.locator("#banner-state")).to_have_text("NORMAL")
    await page.locator("#pause-button").click()
    await page.get_by_label("Reason").fill("Flash flood warning")
    await page.get_by_label("Type PAUSE to confirm").fill("PAUSE")
    button = page.locator("#pause-dialog").get_by_role("button", name="Pause all scheduled posts")

    # The browser's own clock: from the confirming submit to the page with the progress
    # ready (DOMContentLoaded of the page it lands on), free of the test driver's overhead.
    await page.evaluate(
        """document.querySelector("#pause-dialog form").addEventListener("submit",
             () => sessionStorage.setItem("confirmed", String(Date.now())))"""
    )
    started = time.monotonic()
    await button.click()
    await page.locator("#progress-bar").wait_for(state="visible", timeout=5_000)
    await expect(page.locator("#op-kind")).to_have_text("Pause", timeout=5_000)
    wall = time.monotonic() - started
    shown = await page.evaluate(
        """(performance.timeOrigin
            + performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd
            - Number(sessionStorage.getItem("confirmed"))) / 1000"""
    )
    print(f"progress ready {shown:.2f} s after confirming ({wall:.2f} s as the driver saw it)")
    assert 0 < shown < FEEDBACK_SECONDS, f"progress ready {shown:.2f} s after confirming"
    assert wall < 3 * FEEDBACK_SECONDS  # the driver's view, with its own overhead
    # Recorded at once: the banner says the pause is under way before anything is safe.
    await expect(page.locator("#banner-state")).to_have_text("PAUSING…")
    await expect(page.locator("#op-status")).to_have_text("running")
    await expect(page.locator("#op-phase")).to_have_text(re.compile(r"starting|making safe"))
    # The soonest-due items show as they are being made safe, with counts rising.
    await expect(page.locator("#soonest li").first).to_be_visible(timeout=10_000)
    await shot(page, "instant-feedback-pausing")
    await expect(page.locator("#progress-moved")).not_to_have_text("0", timeout=20_000)
    await expect(page.locator("#banner-state")).to_have_text("PAUSED", timeout=60_000)
    await expect(page.locator("#op-status")).to_have_text("done", timeout=60_000)
    await shot(page, "instant-feedback-paused")
