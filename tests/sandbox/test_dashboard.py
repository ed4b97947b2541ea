"""The sandbox's Hootsuite dashboard: its own sign-in, installed app streams framed with signed
single sign-on fields, the stand-in hsp.js at the real one's path, the control API to install."""

from __future__ import annotations

import hashlib
import re
import time

import httpx
import pytest

from empause.sandbox import seed
from empause.sandbox.server import SandboxServer

SECRET = "sandbox-dashboard-test-secret"
_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _signed_in(base_url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=10)
    answer = client.post("/dashboard/login", data={"email": email, "password": seed.DEMO_PASSWORD})
    assert answer.status_code == 303, answer.text
    assert "HttpOnly" in answer.headers["set-cookie"]
    return client


def test_the_dashboard_needs_its_own_sign_in(sandbox):
    page = httpx.get(f"{sandbox.base_url}/dashboard")
    assert page.status_code == 200 and 'action="/dashboard/login"' in page.text
    wrong = httpx.post(
        f"{sandbox.base_url}/dashboard/login", data={"email": seed.EM_EMAIL, "password": "nope"}
    )
    assert wrong.status_code == 401
    assert "Wrong email or password" in wrong.text


def test_an_installed_stream_is_framed_with_signed_sso_fields(sandbox):
    sandbox.control.install_app_stream("Emergency Pause", "http://127.0.0.1:9/s", SECRET)
    # Installing again under the same name replaces it (a test or demo on another port).
    streams = sandbox.control.install_app_stream("Emergency Pause", "http://127.0.0.1:1/s", SECRET)
    assert [s["url"] for s in streams["streams"]] == ["http://127.0.0.1:1/s"]
    api_key = streams["streams"][0]["api_key"]

    client = _signed_in(sandbox.base_url, seed.EM_EMAIL)
    before = int(time.time())
    page = client.get("/dashboard", params={"theme": "dark"})
    assert page.status_code == 200
    fields = dict(_FIELD.findall(page.text))
    assert fields["i"] == fields["uid"] == seed.EM_MEMBER_ID
    assert before <= int(fields["ts"]) <= int(time.time())
    expected = hashlib.sha512(f"{fields['i']}{fields['ts']}{SECRET}".encode()).hexdigest()
    assert fields["token"] == expected
    assert fields["theme"] == "dark" and fields["lang"] == "en"
    frame = f"{api_key}_{fields['pid']}"
    assert f'<iframe name="{frame}"' in page.text
    assert f'target="{frame}"' in page.text and 'action="http://127.0.0.1:1/s"' in page.text
    assert 'method="post"' in page.text
    info = re.search(r'data-member-info="([^"]+)"', page.text)
    assert info and "501006" in info.group(1)  # the member's teams, for hsp.getMemberInfo
    client.close()


def test_the_sdk_is_served_at_the_real_path(sandbox):
    sdk = httpx.get(f"{sandbox.base_url}/jsapi/2-0/hsp.js")
    assert sdk.status_code == 200
    assert sdk.headers["content-type"].startswith("text/javascript")
    for call in ("init", "bind", "getMemberInfo", "showStatusMessage", "updatePlacementSubtitle"):
        assert f"{call}(" in sdk.text


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "url": "http://127.0.0.1:1/s", "secret": SECRET},
        {"name": "x", "url": "javascript:alert(1)", "secret": SECRET},
        {"name": "x", "url": "http://127.0.0.1:1/s", "secret": "short"},
        {"name": "x", "url": "http://127.0.0.1:1/s"},
    ],
)
def test_installing_a_stream_checks_its_fields(sandbox, body):
    answer = httpx.post(f"{sandbox.base_url}/_sandbox/app-streams", json=body)
    assert answer.status_code == 400, answer.text


def test_streams_cannot_be_installed_without_the_control_api():
    with SandboxServer(seed=None, control=False, messages=0) as server:
        answer = httpx.post(
            f"{server.base_url}/_sandbox/app-streams",
            json={"name": "x", "url": "http://127.0.0.1:1/s", "secret": SECRET},
        )
        assert answer.status_code == 404
        assert httpx.get(f"{server.base_url}/jsapi/2-0/hsp.js").status_code == 200
