"""The sandbox planner in a real browser: post as staff, watch the planner follow the world."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from empause.sandbox import seed
from tests.fixtures.app import WEBHOOK_SECRET
from tests.sandbox.conftest import later
from tests.web.browsing import needs_chromium, new_page, shot, sqlite_only
from tests.web.helpers import csrf, signed_in, wait_for

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


@pytest.fixture
def app_overrides():
    """Pace the app as fast as `small_sandbox` allows."""
    return {"rate_limit": 200.0}


def _act_as_em(base_url: str, path: str, form: dict[str, str], banner: str) -> None:
    """Pause or resume as the emergency member over HTTP, and wait until it settles."""
    em = signed_in(base_url, seed.EM_EMAIL)
    assert em.post(path, data={**form, "csrf_token": csrf(em)}).status_code == 303
    kind = path.strip("/").capitalize()

    def done() -> bool:
        html = em.get("/").text
        return all(s in html for s in ('data-live="idle"', f'op-kind">{kind}',
                                       'op-status">done', f'id="banner-state">{banner}</strong>'))  # fmt: skip

    wait_for(done)


def _held_on_dashboard(base_url: str, text: str) -> None:
    em = signed_in(base_url, seed.EM_EMAIL)
    wait_for(lambda: text in em.get("/").text.partition('id="held"')[2])


@sqlite_only
async def test_the_planner_shows_a_pause_move_posts_and_hold_staff(small_sandbox, app_server, browser):
    sandbox = small_sandbox
    hook = f"{app_server.base_url}/webhooks/hootsuite/{WEBHOOK_SECRET}"
    await asyncio.to_thread(sandbox.control.register_webhook, hook)  # as the demo does
    page = await new_page(browser, sandbox.base_url)
    await page.goto("/")
    first = page.locator("#days .message.state-scheduled").first
    soonest_id = await first.get_attribute("data-message-id")
    soonest_text = await first.locator(".text").inner_text()
    await page.evaluate("window.notReloaded = true")

    await asyncio.to_thread(
        _act_as_em, app_server.base_url, "/pause", {"reason": "Flood", "confirm": "PAUSE"}, "PAUSED"
    )
    # The soonest post is gone from its day; its copy is a week later, same text.
    await expect(page.locator(f'[data-message-id="{soonest_id}"]')).to_have_count(0,
                                                                              timeout=REFRESHED)
    copy = page.locator("#days .message", has_text=soonest_text)
    await expect(copy.first).to_be_visible()
    await shot(page, "planner-03-paused-posts-moved")

    # Staff posts while paused: it waits for approval (the app holds it) ...
    await page.get_by_label("Social profile").select_option(seed.FACEBOOK_PROFILE_ID)
    await page.get_by_label("Text").fill("Staff: bake sale tomorrow")
    await page.get_by_role("button", name="Schedule message").click()
    held_id = await page.locator("#planner").get_attribute("data-created")
    held = page.locator(f'[data-message-id="{held_id}"]')
    await expect(held).to_contain_text("Pending approval")
    await page.wait_for_timeout(2 * 3000)
    await expect(held).to_contain_text("Pending approval")  # still: held, not approved
    await asyncio.to_thread(_held_on_dashboard, app_server.base_url, "Staff: bake sale tomorrow")
    await shot(page, "planner-04-staff-post-held")

    # ... and is released (approved) on resume.
    await asyncio.to_thread(
        _act_as_em, app_server.base_url, "/resume", {"restore": "original"}, "NORMAL"
    )
    await expect(held).to_contain_text("Scheduled", timeout=REFRESHED)
    await expect(page.locator(f'[data-message-id="{soonest_id}"]')).to_have_count(0)
    await shot(page, "planner-05-resumed")
