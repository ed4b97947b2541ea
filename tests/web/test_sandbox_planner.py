"""The sandbox planner in a real browser: post as staff, watch the planner follow the world."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from empause.sandbox import seed
from tests.sandbox.conftest import later
from tests.web.browsing import needs_chromium, new_page, shot

pytestmark = needs_chromium
async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect
REFRESHED = 10_000  # ms: a few of the page's own refreshes


async def test_compose_as_staff_and_watch_the_planner_refresh_itself(sandbox, browser):
    control = sandbox.control
    page = await new_page(browser, sandbox.base_url)
    await page.goto("/")
    await expect(page.get_by_label("Member", exact=True)).to_have_value(seed.STAFF_MEMBER_ID)
    await page.get_by_label("Social profile").select_option(seed.FACEBOOK_PROFILE_ID)
    await page.get_by_label("Text").fill("Staff: road closure update")
    await page.get_by_label("When").select_option("2")
    await page.get_by_role("button", name="Schedule message").click()

    notice = page.locator("#created")
    await expect(notice).to_contain_text("Posted as Sam Staff")
    await expect(notice).to_contain_text("pending approval")
    created_id = await page.locator("#planner").get_attribute("data-created")
    mine = page.locator(f'[data-message-id="{created_id}"]')
    await expect(mine).to_contain_text("Pending approval")
    await expect(mine).to_contain_text("Sam Staff")
    await expect(mine).to_contain_text("Staff: road closure update")
    await expect(mine).to_have_class("message state-pending_approval created")
    await shot(page, "planner-01-staff-post-pending")

    # From here on the page is never reloaded: it follows the world by itself.
    await page.evaluate("window.notReloaded = true")
    em_token = await asyncio.to_thread(control.token, seed.EM_MEMBER_ID)
    rest = await asyncio.to_thread(
        lambda: control.create_message(
            em_token, text="Shelter open at the high school",
            socialProfileIds=[seed.TWITTER_PROFILE_ID],
            scheduledSendTime=later(sandbox, minutes=30),
        )
    )  # fmt: skip
    posted = page.locator(f'[data-message-id="{rest["id"]}"]')
    await expect(posted).to_contain_text("Emery Manager", timeout=REFRESHED)
    await expect(posted).to_contain_text("Scheduled")

    org_token = await asyncio.to_thread(control.token)
    approved = await asyncio.to_thread(
        lambda: httpx.post(
            f"{sandbox.base_url}/v1/messages/{created_id}/approve",
            json={"sequenceNumber": 1}, headers={"Authorization": f"Bearer {org_token}"},
        )
    )  # fmt: skip
    assert approved.status_code == 200, approved.text
    await expect(mine).to_contain_text("Scheduled", timeout=REFRESHED)
    await expect(mine).to_have_class("message state-scheduled created")

    await asyncio.to_thread(control.clock, 180)  # its time comes: the publisher sends it
    await expect(mine).to_contain_text("Sent", timeout=REFRESHED)
    await expect(page.locator("#published")).to_contain_text("Staff: road closure update")
    assert await page.evaluate("window.notReloaded === true")
    await shot(page, "planner-02-approved-and-sent")
