"""GET /api/preview: what a pause would move, over real HTTP; equals what the pause moves."""

from __future__ import annotations

import httpx
import pytest

from empause.sandbox import seed
from tests.web.helpers import api_status, create_api_key, settled, signed_in, wait_for


@pytest.fixture
def app_overrides():
    return {"rate_limit": 200.0}


def test_api_preview_counts_what_the_pause_moves(small_sandbox, app_server):
    base = app_server.base_url
    em = signed_in(base, seed.EM_EMAIL)
    key = create_api_key(em, "pager")
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{base}/api/preview").status_code == 401
    bad = httpx.get(f"{base}/api/preview", params={"horizon": "forever"}, headers=headers)
    assert bad.status_code == 422 and "horizon" in bad.text
    before = small_sandbox.control.state()["messages"]
    answer = httpx.get(f"{base}/api/preview", headers=headers)
    assert answer.status_code == 200
    preview = answer.json()
    assert {"messages", "by_profile", "by_day", "first_due", "pending_approval"} <= set(preview)
    assert preview["messages"] > 0 and small_sandbox.control.state()["messages"] == before
    short = httpx.get(f"{base}/api/preview", params={"horizon": "1d"}, headers=headers).json()
    assert short["messages"] <= preview["messages"]
    assert httpx.post(f"{base}/api/pause", json={"reason": "storm"}, headers=headers).status_code == 202
    status = wait_for(lambda: (s := api_status(base, key)) and s["paused"] and settled(s) and s)
    assert status["operation"]["in_scope"] == status["operation"]["moved"] == preview["messages"]
