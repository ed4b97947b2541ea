"""Sign in by emailed link for a SocialHub organization, over real HTTP, with the mail going
through a real SMTP server (aiosmtpd on 127.0.0.1) and membership read from the SocialHub
sandbox."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from empause.domain.timeutil import utcnow
from empause.sandbox.socialhub import seed as sh_seed
from empause.store.db import Database
from empause.store.models import SigninLink, User
from empause.web.signin_links import LINKS_PER_WINDOW
from tests.web.helpers import api_status, client, create_api_key, csrf, wait_for
from tests.web.socialhub_app import (
    ask_for_link,
    email_signed_in,
    link_in,
    use_link,
)

PAUSE_FORM = {"reason": "Storm", "confirm": "PAUSE", "strategy": "shift"}
QUIET = 1.5  # seconds to wait for a mail that must not come


def test_sign_in_page_offers_the_email_link(sh_app):
    page = httpx.get(sh_app.base_url + "/")
    assert page.status_code == 200
    assert "Sign in with an email link" in page.text
    assert "Sign in with Hootsuite" not in page.text  # no Hootsuite organization here
    assert httpx.get(sh_app.base_url + "/auth/email").status_code == 200


def test_hootsuite_only_installation_has_no_email_sign_in(app_server):
    page = httpx.get(app_server.base_url + "/")
    assert "Sign in with Hootsuite" in page.text and "email link" not in page.text
    assert httpx.get(app_server.base_url + "/auth/email").status_code == 404


async def test_unknown_address_gets_the_same_answer_and_no_mail(sh_app, db: Database):
    known = ask_for_link(sh_app.base_url, sh_seed.EM_EMAIL)
    unknown = ask_for_link(sh_app.base_url, "nobody@example.org")
    same = known.text.replace(sh_seed.EM_EMAIL, "ADDRESS")
    assert same == unknown.text.replace("nobody@example.org", "ADDRESS")
    link_in(sh_app.mail, sh_seed.EM_EMAIL)
    await asyncio.sleep(QUIET)
    assert sh_app.mail.to("nobody@example.org") == []
    assert len(sh_app.mail.mails) == 1
    async with db.sessions() as session:
        rows = list(await session.scalars(select(SigninLink)))
    assert [r.email for r in rows] == [sh_seed.EM_EMAIL]
    assert all(len(r.token_hash) == 64 for r in rows)


def test_malformed_address_is_asked_again(sh_app):
    answer = client(sh_app.base_url).post("/auth/email", data={"email": "not an address"})
    assert answer.status_code == 422 and "Enter an email address" in answer.text


async def test_emergency_member_gets_controls_and_can_pause(sh_app, db: Database):
    em = email_signed_in(sh_app, sh_seed.EM_EMAIL.upper())  # addresses compare case-blind
    page = em.get("/")
    assert page.status_code == 200 and 'id="pause-button"' in page.text
    async with db.sessions() as session:
        user = await session.scalar(select(User).where(User.member_id == sh_seed.EM_USER_ID))
    assert user is not None and user.email == sh_seed.EM_EMAIL and user.access_token_enc is None
    answer = em.post("/pause", data={**PAUSE_FORM, "csrf_token": csrf(em)})
    assert answer.status_code == 303, answer.text
    wait_for(lambda: "PAUSED" in em.get("/").text, timeout=30)


def test_staff_signs_in_read_only_and_cannot_pause(sh_app):
    staff = email_signed_in(sh_app, sh_seed.STAFF_EMAIL)
    page = staff.get("/")
    assert page.status_code == 200 and "Read-only" in page.text
    assert 'id="pause-button"' not in page.text
    answer = staff.post("/pause", data={**PAUSE_FORM, "csrf_token": csrf(staff)})
    assert answer.status_code == 403


def test_membership_is_checked_again_at_the_action(sh_app):
    em = email_signed_in(sh_app, sh_seed.EM_EMAIL)
    token = csrf(em)
    sh_app.socialhub.control.set_teams(sh_seed.EM_USER_ID, [sh_seed.STAFF_TEAM_ID])
    answer = em.post("/pause", data={**PAUSE_FORM, "csrf_token": token})
    assert answer.status_code == 403 and "SocialHub says your account is not" in answer.text
    assert "NORMAL" in em.get("/").text


def test_a_link_works_once(sh_app):
    ask_for_link(sh_app.base_url, sh_seed.EM_EMAIL)
    link = link_in(sh_app.mail, sh_seed.EM_EMAIL)
    assert httpx.get(link).status_code == 200  # a mail scanner opening it uses nothing
    _, first = use_link(link)
    assert first.status_code == 303
    assert httpx.get(link).status_code == 400
    token = httpx.URL(link).params["token"]
    again = client(sh_app.base_url).post("/auth/email/link", data={"token": token})
    assert again.status_code == 400 and "set-cookie" not in again.headers


async def test_an_expired_link_is_refused(sh_app, db: Database):
    ask_for_link(sh_app.base_url, sh_seed.EM_EMAIL)
    link = link_in(sh_app.mail, sh_seed.EM_EMAIL)
    async with db.sessions() as session:
        await session.execute(update(SigninLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    assert client(sh_app.base_url).get(link).status_code == 400
    token = httpx.URL(link).params["token"]
    answer = client(sh_app.base_url).post("/auth/email/link", data={"token": token})
    assert answer.status_code == 400 and "expired" in answer.text


def test_a_forged_token_is_refused(sh_app):
    ask_for_link(sh_app.base_url, sh_seed.EM_EMAIL)
    real = httpx.URL(link_in(sh_app.mail, sh_seed.EM_EMAIL)).params["token"]
    forged = real[:-2] + ("AA" if not real.endswith("AA") else "BB")
    for token in (forged, "", "x" * 500):
        answer = client(sh_app.base_url).post("/auth/email/link", data={"token": token})
        assert answer.status_code == 400 and "set-cookie" not in answer.headers
    assert client(sh_app.base_url).get(f"/auth/email/link?token={forged}").status_code == 400


def test_links_per_address_are_rate_limited(sh_app):
    for n in range(1, LINKS_PER_WINDOW + 1):
        ask_for_link(sh_app.base_url, sh_seed.STAFF_EMAIL)
        link_in(sh_app.mail, sh_seed.STAFF_EMAIL, count=n)
    answer = ask_for_link(sh_app.base_url, sh_seed.STAFF_EMAIL)
    assert "a sign-in link is on its way" in answer.text  # the same answer
    time.sleep(QUIET)
    assert len(sh_app.mail.to(sh_seed.STAFF_EMAIL)) == LINKS_PER_WINDOW


def test_emergency_member_signed_in_by_link_creates_an_api_key(sh_app):
    em = email_signed_in(sh_app, sh_seed.EM_EMAIL)
    key = create_api_key(em)
    assert api_status(sh_app.base_url, key)["paused"] is False


def test_without_mail_settings_the_page_says_so(sh_app):
    service = sh_app.app.state.email_signin
    mailer, service.mailer = service.mailer, None  # as if EMPAUSE_SMTP_URL were unset
    try:
        assert "EMPAUSE_SMTP_URL" in httpx.get(sh_app.base_url + "/auth/email").text
        answer = client(sh_app.base_url).post("/auth/email", data={"email": sh_seed.EM_EMAIL})
        assert answer.status_code == 503 and "EMPAUSE_MAIL_FROM" in answer.text
    finally:
        service.mailer = mailer
