"""The dashboard's preview and timed pause in a real browser (Debian's chromium): the
confirm dialog shows what will move before the typed confirmation, and the pause moves
exactly that; the banner says when the pause ends; the end is moved, cancelled, and finally
set a few seconds ahead, after which the pause resumes by itself."""

from __future__ import annotations

import re

import pytest

from empause.sandbox import seed
from tests.web import test_browser
from tests.web.test_browser import browser, expect, goto_dashboard, pytestmark, shot, sign_in

__all__ = ["browser", "pytestmark"]  # the browser fixture and the chromium skip, shared
page = test_browser.page


@pytest.fixture
def app_overrides():
    return {"rate_limit": 200.0}


async def test_preview_in_the_dialog_then_a_timed_pause_that_ends_by_itself(page, small_sandbox):
    await sign_in(page, seed.EM_EMAIL)
    await page.locator("#pause-button").click()
    dialog = page.locator("#pause-dialog")
    await expect(dialog).to_be_visible()
    summary = page.locator("#preview-summary")
    await expect(summary).to_contain_text("will move", timeout=30_000)
    text = await summary.text_content()
    previewed = int(re.match(r"\s*(\d+)", text or "").group(1))  # type: ignore[union-attr]
    assert previewed > 0
    assert await page.locator("#preview-profiles tbody tr").count() > 0
    assert await page.locator("#preview-first li").count() > 0
    await shot(page, "20-pause-dialog-preview")

    await page.get_by_label("Reason").fill("Storm: timed pause")
    await dialog.locator("summary").click()
    await page.locator("#until").fill("2h")
    await page.get_by_label("Type PAUSE to confirm").fill("PAUSE")
    await dialog.get_by_role("button", name="Pause all scheduled posts").click()
    await expect(page.locator("#banner")).to_contain_text("PAUSED", timeout=60_000)
    await expect(page.locator("#op-status")).to_have_text("done", timeout=60_000)
    await expect(page.locator("#progress-moved")).to_have_text(str(previewed))
    await expect(page.locator("#banner-ends")).to_contain_text("Ends by itself")
    await shot(page, "21-banner-ends")

    first_end = await page.locator("#banner-ends time").get_attribute("datetime")
    await page.locator("#end-until").fill("3h")
    await page.locator("#end-set").click()
    await expect(page.locator("#banner-ends time")).not_to_have_attribute("datetime", first_end or "")
    await page.locator("#end-cancel").click()
    await expect(page.locator("#banner-ends")).to_have_count(0)
    await expect(page.locator("#banner")).to_contain_text("PAUSED")

    await page.locator("#end-until").fill("5s")
    await page.locator("#end-set").click()
    await expect(page.locator("#banner-ends")).to_contain_text("Ends by itself")
    # The timer fires in the app's own worker; the page follows the state and reloads.
    await expect(page.locator("#banner")).to_contain_text("NORMAL", timeout=60_000)
    await expect(page.locator("#op-kind")).to_have_text("Resume", timeout=60_000)
    await expect(page.locator("#op-status")).to_have_text("done", timeout=60_000)
    await goto_dashboard(page)
    await shot(page, "22-resumed-by-the-timer")
    await page.get_by_role("link", name="Audit log").click()
    await expect(page.locator("#audit")).to_contain_text("pause.end_cancelled")
    await expect(page.locator("#audit")).to_contain_text("timer (set by")
