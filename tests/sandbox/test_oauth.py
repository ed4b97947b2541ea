"""OAuth2 as Hootsuite documents it: Basic-only client auth, five grants, codes, PKCE."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx

from empause.sandbox import seed

AUTH = (seed.CLIENT_ID, seed.CLIENT_SECRET)
REDIRECT = seed.DEMO_REDIRECT_URIS[1]


def _token(sandbox, auth=AUTH, **form) -> httpx.Response:
    return httpx.post(f"{sandbox.base_url}/oauth2/token", data=form, auth=auth)


def _sign_in(sandbox, email=seed.EM_EMAIL, password=seed.DEMO_PASSWORD, **extra) -> httpx.Response:
    params = {"response_type": "code", "client_id": seed.CLIENT_ID, "redirect_uri": REDIRECT,
              "scope": "offline", "state": "state-12345", **extra}
    page = httpx.get(f"{sandbox.base_url}/oauth2/auth", params=params)
    assert page.status_code == 200 and "<form" in page.text
    return httpx.post(f"{sandbox.base_url}/oauth2/auth",
                      data={**params, "email": email, "password": password})


def _code(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["state-12345"]
    return query["code"][0]


def test_member_and_organization_app_grants(sandbox):
    member = _token(sandbox, grant_type="member_app", member_id=seed.EM_MEMBER_ID).json()
    assert member["token_type"] == "Bearer" and member["expires_in"] == 3599
    me = httpx.get(f"{sandbox.base_url}/v1/me",
                   headers={"Authorization": f"Bearer {member['access_token']}"})
    assert me.json()["data"]["email"] == seed.EM_EMAIL
    org = _token(sandbox, grant_type="organization_app", organization_id=seed.ORG_ID)
    assert org.status_code == 200
    assert _token(sandbox, grant_type="client_credentials").status_code == 200
    unknown = _token(sandbox, grant_type="member_app", member_id="nobody")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"


def test_client_credentials_only_in_basic(sandbox):
    body_creds = httpx.post(f"{sandbox.base_url}/oauth2/token", data={
        "grant_type": "member_app", "member_id": seed.EM_MEMBER_ID,
        "client_id": seed.CLIENT_ID, "client_secret": seed.CLIENT_SECRET})
    assert body_creds.status_code == 401 and body_creds.json()["error"] == "invalid_client"
    wrong = _token(sandbox, auth=(seed.CLIENT_ID, "nope"), grant_type="client_credentials")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    bad_grant = _token(sandbox, grant_type="password")
    assert bad_grant.status_code == 400 and bad_grant.json()["error"] == "unsupported_grant_type"


def test_authorization_code_refresh_rotation_and_reuse(sandbox):
    code = _code(_sign_in(sandbox))
    first = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert first.status_code == 200
    tokens = first.json()
    refreshed = _token(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    reused_refresh = _token(sandbox, grant_type="refresh_token",
                            refresh_token=tokens["refresh_token"])
    assert reused_refresh.status_code == 400 and reused_refresh.json()["error"] == "invalid_grant"
    headers = {"Authorization": f"Bearer {new['access_token']}"}
    assert httpx.get(f"{sandbox.base_url}/v1/me", headers=headers).status_code == 200
    reuse = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert httpx.get(f"{sandbox.base_url}/v1/me", headers=headers).status_code == 401
    again = _token(sandbox, grant_type="refresh_token", refresh_token=new["refresh_token"])
    assert again.status_code == 400


def test_sign_in_rejects_bad_password_and_short_state(sandbox):
    assert _sign_in(sandbox, password="wrong").status_code == 401
    short = httpx.get(f"{sandbox.base_url}/oauth2/auth", params={
        "response_type": "code", "client_id": seed.CLIENT_ID, "redirect_uri": REDIRECT,
        "state": "short"})
    assert short.status_code == 302 and "error=invalid_state" in short.headers["location"]
    evil = httpx.get(f"{sandbox.base_url}/oauth2/auth", params={
        "response_type": "code", "client_id": seed.CLIENT_ID,
        "redirect_uri": "http://evil.example/cb", "state": "long-enough"})
    assert evil.status_code == 400


def test_pkce_s256(sandbox):
    verifier = "a-very-long-random-verifier-string-0123456789abcdef"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    challenge = challenge.rstrip(b"=").decode()
    code = _code(_sign_in(sandbox, code_challenge=challenge, code_challenge_method="S256"))
    missing = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                     code_verifier="wrong")
    assert missing.status_code == 400
    code = _code(_sign_in(sandbox, code_challenge=challenge, code_challenge_method="S256"))
    ok = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                code_verifier=verifier)
    assert ok.status_code == 200


def test_only_registered_redirect_uris_are_accepted(sandbox):
    other = "http://127.0.0.1:9/auth/callback"  # loopback, allowed by the portal, unregistered
    params = {"response_type": "code", "client_id": seed.CLIENT_ID, "redirect_uri": other,
              "scope": "offline", "state": "state-12345"}  # fmt: skip
    refused = httpx.get(f"{sandbox.base_url}/oauth2/auth", params=params)
    assert refused.status_code == 400 and "not registered" in refused.text  # no redirect to it
    for near in (REDIRECT + "/", REDIRECT + "?x=1", REDIRECT.upper()):
        close = httpx.get(f"{sandbox.base_url}/oauth2/auth", params={**params, "redirect_uri": near})
        assert close.status_code == 400, near  # compared exactly
    sandbox.control.register_redirect_uri(other)
    assert httpx.get(f"{sandbox.base_url}/oauth2/auth", params=params).status_code == 200
    bad = httpx.post(f"{sandbox.base_url}/_sandbox/redirect-uris", json={"uri": "http://evil.example/cb"})
    assert bad.status_code == 400


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_pkce_is_checked_as_rfc_7636_says(sandbox):
    short = "too-short-verifier"
    code = _code(_sign_in(sandbox, code_challenge=_challenge(short), code_challenge_method="S256"))
    refused = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                     code_verifier=short)  # fmt: skip
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    no_verifier = _token(
        sandbox, grant_type="authorization_code", code=_code(_sign_in(
            sandbox, code_challenge=_challenge("v" * 43), code_challenge_method="S256")),
        redirect_uri=REDIRECT,
    )  # fmt: skip
    assert no_verifier.status_code == 400
    unasked = _token(sandbox, grant_type="authorization_code", code=_code(_sign_in(sandbox)),
                     redirect_uri=REDIRECT, code_verifier="v" * 43)  # fmt: skip
    assert unasked.status_code == 400  # a verifier for a code issued without a challenge
    params = {"response_type": "code", "client_id": seed.CLIENT_ID, "redirect_uri": REDIRECT,
              "state": "state-12345", "code_challenge": "not base64url!",
              "code_challenge_method": "S256"}  # fmt: skip
    bad = httpx.get(f"{sandbox.base_url}/oauth2/auth", params=params)
    assert bad.status_code == 302 and "error=invalid_request" in bad.headers["location"]


def test_tokens_expire(sandbox):
    token = sandbox.control.token(seed.EM_MEMBER_ID)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{sandbox.base_url}/v1/me", headers=headers).status_code == 200
    sandbox.control.expire_tokens()
    expired = httpx.get(f"{sandbox.base_url}/v1/me", headers=headers)
    assert expired.status_code == 401 and expired.json()["errors"][0]["code"] == 1001
    sandbox.control.faults(token_ttl=60)
    short = _token(sandbox, grant_type="member_app", member_id=seed.EM_MEMBER_ID).json()
    assert short["expires_in"] == 60
    sandbox.control.clock(advance_seconds=61)
    headers = {"Authorization": f"Bearer {short['access_token']}"}
    assert httpx.get(f"{sandbox.base_url}/v1/me", headers=headers).status_code == 401
