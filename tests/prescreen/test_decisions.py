"""Prescreening end to end: members write messages in the sandbox, the sandbox really posts
webhooks to the running receiver, the worker decides from what the platform says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from empause.prescreen.screen import REJECT_REASON
from empause.sandbox.seed import EM_MEMBER_ID, ORG_ID
from empause.store.db import Database
from tests.prescreen.harness import ReceiverServer, eventually, set_paused
from tests.prescreen.scenario import (
    audit_actions,
    decided,
    decision,
    handled,
    sandbox_message,
    write_message,
)


async def test_not_paused_pending_messages_are_approved(
    start_receiver: Callable[..., ReceiverServer], hootsuite: Any, db: Database
) -> None:
    start_receiver()
    message = write_message(hootsuite.control)
    assert message["state"] == "PENDING_APPROVAL"
    row = await eventually(lambda: decided(db, message["id"], "approved"))
    assert row.reason == "not paused"
    assert row.message_json["text"] == message["text"]  # the full JSON, read upstream
    assert row.sequence_number == message["sequenceNumber"]
    assert sandbox_message(hootsuite.control, message["id"])["state"] == "SCHEDULED"
    assert await audit_actions(db, message["id"]) == ["prescreen.approved"]


async def test_not_paused_ignore_leaves_messages_to_reviewers(
    start_receiver: Callable[..., ReceiverServer], hootsuite: Any, db: Database
) -> None:
    start_receiver(prescreen_when_normal="ignore")
    message = write_message(hootsuite.control)
    await eventually(lambda: handled(db, message["id"], "PENDING_APPROVAL"))
    assert await decision(db, message["id"]) is None
    assert sandbox_message(hootsuite.control, message["id"])["state"] == "PENDING_APPROVAL"


async def test_paused_staff_messages_are_held_and_emergency_team_approved(
    start_receiver: Callable[..., ReceiverServer], hootsuite: Any, db: Database
) -> None:
    await set_paused(db, True)
    start_receiver()
    hootsuite.control.set_member(EM_MEMBER_ID, needs_approval=True)
    staff = write_message(hootsuite.control, text="Bake sale on Friday")
    em = write_message(
        hootsuite.control, EM_MEMBER_ID, text="Shelter in place until further notice"
    )
    assert em["state"] == "PENDING_APPROVAL"

    held = await eventually(lambda: decided(db, staff["id"], "held"))
    approved = await eventually(lambda: decided(db, em["id"], "approved"))
    assert held.author_id != EM_MEMBER_ID and held.organization_id == ORG_ID
    assert approved.reason == "emergency team member"
    assert sandbox_message(hootsuite.control, staff["id"])["state"] == "PENDING_APPROVAL"
    assert sandbox_message(hootsuite.control, em["id"])["state"] == "SCHEDULED"
    assert await audit_actions(db, staff["id"]) == ["prescreen.held"]
    # The approval's own APPROVED event is seen, and the emergency team's post stays put.
    await eventually(lambda: handled(db, em["id"], "APPROVED"))
    assert sandbox_message(hootsuite.control, em["id"])["state"] == "SCHEDULED"


async def test_paused_reject_tells_the_author_it_is_queued(
    start_receiver: Callable[..., ReceiverServer], hootsuite: Any, db: Database
) -> None:
    await set_paused(db, True)
    start_receiver(held_action="reject")
    message = write_message(hootsuite.control)
    row = await eventually(lambda: decided(db, message["id"], "rejected"))
    assert "queued until the emergency ends" in row.reason == REJECT_REASON
    upstream = sandbox_message(hootsuite.control, message["id"])
    assert upstream["state"] == "REJECTED"
    assert upstream["history"][-1]["actionType"] == "REJECT"


async def test_membership_is_read_from_the_platform(
    start_receiver: Callable[..., ReceiverServer], hootsuite: Any, db: Database
) -> None:
    """Moving staff into the emergency team upstream is enough: nothing is trusted locally."""
    await set_paused(db, True)
    from empause.sandbox.seed import EM_TEAM_ID, STAFF_MEMBER_ID

    hootsuite.control.set_member(STAFF_MEMBER_ID, teams=[EM_TEAM_ID])
    start_receiver()
    message = write_message(hootsuite.control)
    await eventually(lambda: decided(db, message["id"], "approved"))
