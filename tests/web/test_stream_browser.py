"""The app stream in a real browser, inside the sandbox's Hootsuite dashboard.

The dashboard is served from `localhost` and frames the stream from `127.0.0.1`: another site,
as app.hootsuite.com framing an app is, so nothing may rest on cookies. An emergency-team
member pauses from inside the stream (the sandbox then has nothing due in the window) and
resumes; a staff member sees the state and no controls; a forged token, a stale timestamp
and a replayed token are refused inside the frame. Screenshots in both themes go to
artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from empause.sandbox import seed
from empause.sandbox.dashboard import sso_token
from tests.web.helpers import wait_for
from tests.web.stream_helpers import (
    APP_SECRET,
    api,
    due_in_window,
    open_stream,
    session_token,
    sso_params,
    stream_overrides,
)
from tests.web.test_browser import CHROMIUM, async_api, browser, shot  # noqa: F401

expect = async_api.expect
STREAM = "Emergency Pause"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not __import__("os").path.exists(CHROMIUM),
        reason="browser tests need Debian's chromium: apt-get install chromium",
    ),
]


@pytest.fixture
def app_overrides(sandbox_server):
    return stream_overrides(sandbox_server)


@pytest.fixture
def installed(small_sandbox, app_server):
    small_sandbox.control.install_app_stream(
        STREAM, f"{app_server.base_url}/hootsuite/stream", APP_SECRET
    )
    return app_server


@pytest.fixture
async def dashboard_page(installed, browser) -> AsyncIterator[Any]:  # noqa: F811
    context = await browser.new_context(viewport={"width": 1000, "height": 860})
    page = await context.new_page()
    page.set_default_timeout(20_000)
    yield page
    await context.close()


def dashboard_url(sandbox: Any, theme: str = "light") -> str:
    return f"http://localhost:{sandbox.port}/dashboard?theme={theme}"


async def open_dashboard(page: Any, sandbox: Any, email: str, theme: str = "light") -> Any:
    """Sign in to the sandbox dashboard; returns the stream's frame, once it has loaded."""
    await page.goto(dashboard_url(sandbox, theme))
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(seed.DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"**/dashboard?theme={theme}")
    stream = page.frame_locator("section.column iframe")
    await expect(stream.locator("#s-state")).to_be_visible()
    # The SDK handshake reached the dashboard (hsp.init, hsp.bind('refresh')).
    column = page.locator("section.column")
    await expect(column).to_have_attribute("data-initialised", "true")
    await expect(column).to_have_attribute("data-bound", "refresh")
    return stream


def stream_frame(page: Any) -> Any:
    return next(f for f in page.frames if f.url.startswith("http://127.0.0.1"))


async def off_loop(function: Any, *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


async def test_an_emergency_member_pauses_and_resumes_inside_the_dashboard(
    dashboard_page, installed, small_sandbox
):
    page = dashboard_page
    assert await off_loop(due_in_window, small_sandbox)
    stream = await open_dashboard(page, small_sandbox, seed.EM_EMAIL)
    frame = stream_frame(page)
    assert page.url.startswith("http://localhost:")  # the dashboard's site ...
    assert frame.url.startswith("http://127.0.0.1:")  # ... and the stream's: cross-site
    assert frame.url.endswith("/hootsuite/stream")  # the SSO parameters left the address bar
    assert await page.context.cookies(installed.base_url) == []  # no cookie of ours anywhere
    await expect(stream.locator("#s-state-word")).to_have_text("NORMAL")
    due = len(await off_loop(due_in_window, small_sandbox))
    await expect(stream.locator("#s-preview")).to_have_attribute("data-count", str(due))
    await expect(stream.locator("#s-preview")).to_contain_text(f"{due} scheduled posts are due")
    await expect(stream.locator(".s-foot")).to_contain_text(seed.ORG_NAME)
    await shot(page, "stream-01-light-emergency-normal")

    # Typed confirmation: without it nothing is sent.
    await stream.get_by_label("Reason").fill("Severe storm: emergency messaging only")
    await stream.get_by_label("Type PAUSE to confirm").fill("pause")
    await stream.get_by_role("button", name="Pause all scheduled posts").click()
    await expect(stream.locator("#s-message")).to_contain_text("Type PAUSE")
    await stream.get_by_label("Type PAUSE to confirm").fill("PAUSE")
    await expect(stream.locator("#s-message")).to_be_hidden()
    assert await off_loop(due_in_window, small_sandbox)  # nothing was sent
    await shot(page, "stream-02-light-pause-form")
    await stream.get_by_role("button", name="Pause all scheduled posts").click()

    # hsp.showStatusMessage shows in the dashboard; the placement subtitle says Paused.
    status = page.locator("#status-messages .status-success")
    await expect(status.first).to_contain_text("Pause started")
    await expect(page.locator("section.column [data-subtitle]")).to_have_text(
        "Paused", timeout=60_000
    )
    await expect(stream.locator("#s-state-word")).to_have_text("PAUSED")
    await expect(stream.locator("#s-reason")).to_have_text("Severe storm: emergency messaging only")
    await expect(stream.locator("#s-by")).to_contain_text("Emery Manager")
    await expect(stream.locator("#s-op-status")).to_have_text("done", timeout=60_000)
    await expect(stream.locator("#s-progress-percent")).to_have_text("100")
    assert await off_loop(due_in_window, small_sandbox) == []
    await expect(stream.locator("#s-resume-form")).to_be_visible()
    await shot(page, "stream-03-light-paused")

    await stream.get_by_label("go back to their original times").check()
    await stream.get_by_role("button", name="Resume").click()
    await expect(page.locator("#status-messages .status-success").last).to_contain_text(
        "Resume started"
    )
    await expect(stream.locator("#s-state-word")).to_have_text("NORMAL", timeout=60_000)
    await expect(stream.locator("#s-op-kind")).to_have_text("Resume")
    await expect(stream.locator("#s-op-status")).to_have_text("done", timeout=60_000)
    await expect(page.locator("section.column [data-subtitle]")).to_have_text("")
    assert await off_loop(due_in_window, small_sandbox)
    await shot(page, "stream-04-light-resumed")


async def test_staff_see_the_state_and_no_controls_in_the_dark_theme(
    dashboard_page, installed, small_sandbox
):
    page = dashboard_page
    stream = await open_dashboard(page, small_sandbox, seed.STAFF_EMAIL, theme="dark")
    await expect(stream.locator("html")).to_have_class("theme-dark")
    await expect(stream.locator("#s-readonly")).to_be_visible()
    assert await stream.locator("#s-pause-form").count() == 0
    assert await stream.locator("#s-resume-form").count() == 0
    assert await stream.get_by_role("button").count() == 0

    # An emergency-team member pauses elsewhere; the dashboard's refresh shows it at once.
    def pause_elsewhere() -> None:
        token = session_token(open_stream(installed.base_url, sso_params(seed.EM_MEMBER_ID)))
        with api(installed.base_url, token) as client:
            answer = client.post("/pause", json={"reason": "Data breach", "confirm": "PAUSE"})
            assert answer.status_code == 202, answer.text
            wait_for(lambda: (s := client.get("/state").json())["paused"] and not s["busy"])

    await off_loop(pause_elsewhere)
    await page.locator("section.column [data-refresh]").click()
    await expect(stream.locator("#s-state-word")).to_have_text("PAUSED", timeout=5_000)
    await expect(stream.locator("#s-reason")).to_have_text("Data breach")
    await expect(page.locator("section.column [data-subtitle]")).to_have_text("Paused")
    await expect(stream.locator("#s-op-status")).to_have_text("done", timeout=20_000)
    await shot(page, "stream-05-dark-staff-paused")


async def test_an_emergency_member_in_the_dark_theme(dashboard_page, installed, small_sandbox):
    page = dashboard_page
    stream = await open_dashboard(page, small_sandbox, seed.EM_EMAIL, theme="dark")
    await expect(stream.locator("html")).to_have_class("theme-dark")
    await expect(stream.locator("#s-pause-form")).to_be_visible()
    await stream.get_by_label("Reason").fill("Shelter in place")
    await stream.get_by_label("Type PAUSE to confirm").fill("PAUSE")
    await shot(page, "stream-06-dark-emergency-pause-form")

    # The stand-in SDK answers getMemberInfo over postMessage (our page never relies on it).
    info = await stream_frame(page).evaluate("new Promise((r) => hsp.getMemberInfo(r))")
    assert info["userId"] == int(seed.EM_MEMBER_ID) and int(seed.EM_TEAM_ID) in info["teamIds"]
    # The dashboard only listens to the stream's own frame, on the stream's origin.
    await page.evaluate(
        """window.postMessage({hsp: "call", call: "showStatusMessage",
                               args: {message: "forged", type: "error"}, id: 1}, "*")"""
    )
    await stream_frame(page).evaluate("hsp.showStatusMessage('from the stream', 'info')")
    await expect(page.locator("#status-messages .status-info")).to_have_text("from the stream")
    assert await page.locator("#status-messages .status-error").count() == 0


async def _resubmit(page: Any, **fields: str) -> None:
    """Post the dashboard's SSO form into the stream's frame again, with some fields changed."""
    await page.evaluate(
        """(fields) => {
            const form = document.querySelector("section.column form[data-sso]");
            for (const [name, value] of Object.entries(fields)) form.elements[name].value = value;
            form.submit();
        }""",
        fields,
    )


async def test_forged_stale_and_replayed_sign_ins_are_refused_inside_the_frame(
    dashboard_page, installed, small_sandbox
):
    page = dashboard_page
    stream = await open_dashboard(page, small_sandbox, seed.EM_EMAIL)
    await expect(stream.locator("#s-state-word")).to_have_text("NORMAL")

    # Replayed: the very form the dashboard just posted, posted again.
    await _resubmit(page)
    await expect(stream.locator("#stream-error")).to_contain_text("already been used")
    await shot(page, "stream-07-light-replayed")

    # Forged: a token not signed with the app's secret.
    ts = int(time.time())
    forged = sso_token(seed.EM_MEMBER_ID, ts, "a guess at the secret")
    await _resubmit(page, ts=str(ts), token=forged)
    await expect(stream.locator("#stream-error")).to_contain_text("not signed by Hootsuite")

    # Stale: correctly signed, but ten minutes old.
    old = ts - 600
    await _resubmit(page, ts=str(old), token=sso_token(seed.EM_MEMBER_ID, old, APP_SECRET))
    await expect(stream.locator("#stream-error")).to_contain_text("too old")
    await shot(page, "stream-08-light-stale")
    assert await stream.locator("#s-pause-form").count() == 0
