"""Fixtures shared by the web tests that run whole pauses.

Modules using `small_sandbox` also lift the app's own pacing with `app_overrides`.
"""

from __future__ import annotations

import pytest

from tests.web.socialhub_app import mail_sink, sh_app  # noqa: F401  (fixtures)


@pytest.fixture
def small_sandbox(sandbox):
    """Few messages and no upstream throttling, so a whole pause takes a moment."""
    sandbox.control.reset(seed="demo", messages=40, rng=7)
    sandbox.control.faults(rate_limit=1000)
    return sandbox


@pytest.fixture
async def browser():
    """Debian's headless chromium (see tests/web/browsing.py); test_browser.py has its own."""
    from tests.web.browsing import launch

    async for chromium in launch():
        yield chromium
