"""Shared by the browser tests: Debian's chromium through async Playwright, screenshots,
signing in through the sandbox's OAuth page, axe-core, and keyboard-only moves.

Never downloads a browser: without /usr/bin/chromium the tests are skipped. axe-core comes
bundled with axe-playwright-python and is injected into the page (no network).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from empause.sandbox import seed

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SHOTS = ARTIFACTS / "screenshots"
AXE_REPORTS = ARTIFACTS / "axe"  # every violation of every impact, per page and theme
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERIOUS = {"serious", "critical"}  # axe impacts that fail a page
THEMES = ("light", "dark")

needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="browser tests need Debian's chromium: apt-get install chromium",
    ),
]

# Pages look the same on either database: these browser tests run on SQLite only (the other
# web tests cover PostgreSQL), which keeps CI's time down.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def launch() -> AsyncIterator[Any]:
    """A headless chromium for one test (use from a fixture)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def new_page(browser: Any, base_url: str, theme: str = "light") -> Any:
    context = await browser.new_context(
        base_url=base_url, viewport={"width": 1200, "height": 900}, color_scheme=theme
    )
    page = await context.new_page()
    page.set_default_timeout(20_000)
    return page


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def sign_in(page: Any, email: str) -> None:
    """From the app's sign-in page through the sandbox's OAuth page to the dashboard."""
    await page.goto("/")
    await page.get_by_role("link", name="Sign in with Hootsuite").click()
    await page.wait_for_url(re.compile(r"/oauth2/auth"))
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(seed.DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in and allow").click()
    await page.wait_for_selector("#banner")


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, n.get("target", []))) for n in v["nodes"][:5]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return "\n".join(lines)


async def violations(page: Any) -> list[dict]:
    """axe-core's violations (every impact) on the page as it is now."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    return list(results.response["violations"])


async def serious_violations(page: Any) -> list[dict]:
    return [v for v in await violations(page) if v.get("impact") in SERIOUS]


async def check_page(page: Any, name: str, theme: str, found: dict[str, str]) -> None:
    """Screenshot the page, write all its axe violations to artifacts/axe/, and record the
    serious and critical ones under `name-theme`."""
    label = f"{name}-{theme}"
    await shot(page, f"a11y-{label}")
    every = await violations(page)
    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    (AXE_REPORTS / f"{label}.txt").write_text(describe(every) + "\n")
    bad = [v for v in every if v.get("impact") in SERIOUS]
    if bad:
        found[label] = describe(bad)


async def focused(page: Any) -> dict[str, Any]:
    """What has the keyboard focus, and whether its focus indicator is visible."""
    return await page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return {id: null};
          const style = getComputedStyle(el);
          return {
            id: el.id, tag: el.tagName.toLowerCase(), name: el.getAttribute("name"),
            value: el.value, text: (el.textContent || "").trim().slice(0, 60),
            outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
            visible: el.matches(":focus-visible"),
          };
        }"""
    )


async def tab_to(page: Any, matches: Any, limit: int = 60, backwards: bool = False) -> dict:
    """Press Tab (Shift+Tab) until `matches(focused)`; every stop must show its focus."""
    for _ in range(limit):
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = await focused(page)
        if now.get("id") is not None or now.get("tag"):
            assert now["visible"] and now["outline"], f"focus is not visible on {now}"
        if matches(now):
            return now
    raise AssertionError(f"Tab never reached the control ({limit} presses)")
