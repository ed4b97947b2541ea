"""Reading status never spends the upstream budget: the API, the dashboard and the event
stream read our database; membership for reading is cached briefly and shared."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from empause.sandbox import seed
from tests.web.helpers import create_api_key, signed_in


def upstream_calls(sandbox) -> dict[str, int]:
    return dict(sandbox.control.state()["calls"])


def spent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        k: n - before.get(k, 0)
        for k, n in after.items()
        if n > before.get(k, 0) and not k.endswith("/_sandbox/state")  # our own look
    }


def test_polling_status_spends_no_upstream_calls(app_server, sandbox):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    key = create_api_key(em)
    headers = {"Authorization": f"Bearer {key}"}
    base = app_server.base_url
    assert httpx.get(f"{base}/api/status", headers=headers).status_code == 200  # warm
    assert em.get("/").status_code == 200
    before = upstream_calls(sandbox)

    def poll(_: int) -> int:
        return httpx.get(f"{base}/api/status", headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(poll, range(160))) == {200}
    for _ in range(5):
        assert em.get("/").status_code == 200
    with em.stream("GET", "/events/status") as stream:
        assert stream.status_code == 200
        next(stream.iter_lines())
    assert spent(before, upstream_calls(sandbox)) == {}


def test_a_fresh_membership_check_is_still_made_for_every_action(app_server, sandbox):
    em = signed_in(app_server.base_url, seed.EM_EMAIL)
    key = create_api_key(em)
    headers = {"Authorization": f"Bearer {key}"}
    base = app_server.base_url
    httpx.get(f"{base}/api/status", headers=headers)
    before = sandbox.control.state()["calls"]
    answer = httpx.post(f"{base}/api/resume", json={"restore": "keep"}, headers=headers)
    assert answer.status_code == 202
    after = sandbox.control.state()["calls"]
    teams = [k for k in after if "teams" in k and after[k] > before.get(k, 0)]
    assert teams, after  # the action asked the platform about the key's creator again
