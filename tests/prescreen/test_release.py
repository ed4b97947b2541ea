"""Resume: held messages still pending and still in the future are approved, soonest first;
the rest are listed for review. Also a held message a human approves while paused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from empause.config import default_organization
from empause.engine.service import Engine
from empause.platforms.hootsuite.adapter import HootsuitePlatform
from empause.prescreen.queries import list_decisions
from empause.prescreen.release import release_held
from empause.sandbox.seed import ADMIN_MEMBER_ID, ORG_ID, STAFF_MEMBER_ID
from empause.store.db import Database
from tests.prescreen.harness import ReceiverServer, eventually, make_settings, set_paused
from tests.prescreen.scenario import (
    audit_actions,
    decided,
    decision,
    handled,
    member_call,
    sandbox_message,
    write_message,
)


@pytest.fixture
async def platform(hootsuite: Any, database_url: str) -> AsyncIterator[HootsuitePlatform]:
    platform = HootsuitePlatform.from_settings(make_settings(database_url, hootsuite.base_url))
    yield platform
    await platform.aclose()


async def test_resume_releases_held_messages_in_send_time_order(
    start_receiver: Callable[..., ReceiverServer],
    hootsuite: Any,
    db: Database,
    platform: HootsuitePlatform,
) -> None:
    await set_paused(db, True)
    receiver = start_receiver()
    control = hootsuite.control
    later = write_message(control, ahead=timedelta(hours=5), text="later")
    sooner = write_message(control, ahead=timedelta(hours=3), text="sooner")
    withdrawn = write_message(control, ahead=timedelta(hours=4), text="withdrawn")
    for message in (later, sooner, withdrawn):
        await eventually(lambda m=message: decided(db, m["id"], "held"))
    # The author withdraws one while paused: it cannot be released, a human should know.
    response = member_call(
        hootsuite.base_url, control, STAFF_MEMBER_ID, "DELETE", f"/v1/messages/{withdrawn['id']}"
    )
    assert response.status_code == 200

    await set_paused(db, False)
    result = await release_held(db, platform, default_organization(receiver.settings))

    assert result["held"] == 3 and result["released"] == 2
    assert result["released_ids"] == [sooner["id"], later["id"]]
    (review,) = result["review"]
    assert review["message_id"] == withdrawn["id"] and "no longer exists" in review["why"]
    for message in (sooner, later):
        assert sandbox_message(control, message["id"])["state"] == "SCHEDULED"
        assert (await decision(db, message["id"])).decision == "released"
        assert await audit_actions(db, message["id"]) == ["prescreen.held", "prescreen.released"]
    async with db.sessions() as session:
        assert [r.message_id for r in await list_decisions(session, ORG_ID, "held")] == [
            withdrawn["id"]
        ]
        assert len(await list_decisions(session, ORG_ID)) == 3
    # Released messages' APPROVED events arrive after the resume and change nothing.
    await eventually(lambda: handled(db, sooner["id"], "APPROVED"))
    assert sandbox_message(control, sooner["id"])["state"] == "SCHEDULED"

    again = await release_held(db, platform, default_organization(receiver.settings))  # resume twice: harmless
    assert again["released"] == 0 and len(again["review"]) == 1


async def test_a_human_approving_a_held_message_while_paused_does_not_publish_it(
    start_receiver: Callable[..., ReceiverServer],
    hootsuite: Any,
    db: Database,
    platform: HootsuitePlatform,
) -> None:
    """Invariant 3 under a human reviewer: the approval's webhook sends it to the engine."""
    control = hootsuite.control
    control.reset(seed="demo", messages=10, rng=7)  # a small window: a quick pause
    receiver = start_receiver()
    engine = Engine(db, platform, default_organization(receiver.settings))
    await engine.pause(reason="Storm warning", by="tests")
    message = write_message(control, ahead=timedelta(hours=1), text="Parade route announced")
    await eventually(lambda: decided(db, message["id"], "held"))

    response = member_call(
        hootsuite.base_url, control, ADMIN_MEMBER_ID, "POST",
        f"/v1/messages/{message['id']}/approve",
        {"sequenceNumber": message["sequenceNumber"], "reviewerType": "MEMBER"},
    )  # fmt: skip
    assert response.status_code == 200, response.text

    async def enforced() -> bool:
        return "prescreen.enforced" in await audit_actions(db, message["id"])

    await eventually(enforced)
    assert sandbox_message(control, message["id"])["state"] == "DELETED"
    control.clock(advance_seconds=2 * 3600)  # past the original time (publishes what is due)
    assert not [p for p in control.state()["published"] if p["text"] == message["text"]]
    copies = [m for m in control.state()["messages"] if m["text"] == message["text"]]
    assert [m["state"] for m in copies if not m["deleted"]] == ["SCHEDULED"]  # moved, not lost


async def test_the_engines_resume_releases_what_was_held_during_the_pause(
    start_receiver: Callable[..., ReceiverServer],
    hootsuite: Any,
    db: Database,
    platform: HootsuitePlatform,
) -> None:
    """The whole path: pause, a staff post is held by the webhook worker, resume approves it."""
    control = hootsuite.control
    control.reset(seed="demo", messages=10, rng=7)
    receiver = start_receiver()
    engine = Engine(db, platform, default_organization(receiver.settings))
    await engine.pause(reason="Storm warning", by="tests")
    message = write_message(control, ahead=timedelta(hours=3), text="Bake sale on Friday")
    await eventually(lambda: decided(db, message["id"], "held"))
    assert sandbox_message(control, message["id"])["state"] == "PENDING_APPROVAL"

    result = await engine.resume(restore="original", by="tests")

    assert result["held"]["released_ids"] == [message["id"]]
    assert sandbox_message(control, message["id"])["state"] == "SCHEDULED"
    assert (await decision(db, message["id"])).decision == "released"
    again = await engine.resume(by="tests")  # resume twice: harmless
    assert again["not_paused"] and again["held"]["released"] == 0
