"""Holding the pause: new messages in the window are moved unless an EM member wrote them;
our own copies are pushed again when the window slides over them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from empause.config import default_organization
from empause.domain.timeutil import format_time, parse_time
from empause.engine.service import Engine
from empause.platforms.port import Permanent
from empause.sandbox.seed import ADMIN_MEMBER_ID, EM_MEMBER_ID, PROFILE_IDS, STAFF_MEMBER_ID
from empause.store.models import AuditEvent

from .conftest import (
    WEEK,
    copies_of,
    in_window,
    messages_by_id,
    sandbox_clock,
    settings_for,
    state,
)


def post(sandbox, member_id: str, when, text: str) -> dict:
    sandbox.control.set_member(member_id, needs_approval=False)
    token = sandbox.control.token(member_id=member_id)
    return sandbox.control.create_message(
        token, text=text, socialProfileIds=[PROFILE_IDS[0]], scheduledSendTime=format_time(when),
        tags=["late"],
    )  # fmt: skip


async def test_staff_message_is_moved_em_message_publishes(engine, fast_sandbox):
    await engine.pause("storm", by="tester")
    now = fast_sandbox.sandbox.clock.now()
    staff = post(fast_sandbox, STAFF_MEMBER_ID, now + timedelta(minutes=10), "staff post")
    em = post(fast_sandbox, EM_MEMBER_ID, now + timedelta(minutes=10), "official update")
    assert await engine.enforce_message(staff["id"]) == "moved"
    assert await engine.enforce_message(em["id"]) == "allowed"
    assert await engine.enforce_message(staff["id"]) == "gone"
    after = state(fast_sandbox)
    assert messages_by_id(after)[staff["id"]]["state"] == "DELETED"
    original = messages_by_id(after)[staff["id"]]
    when = parse_time(staff["scheduledSendTime"]) + WEEK
    assert len(copies_of(after, original, when)) == 1
    fast_sandbox.control.clock(advance_seconds=15 * 60)
    published = [p["message_id"] for p in state(fast_sandbox)["published"]]
    assert published == [em["id"]]  # only the emergency team's post went out
    status = await engine.status()
    assert status["last_operation"]["in_scope"] == status["moved"]


async def test_sweep_moves_and_pushes_copies_again(engine, fast_sandbox):
    pause = await engine.pause("storm", by="tester")
    now = fast_sandbox.sandbox.clock.now()
    staff = post(fast_sandbox, STAFF_MEMBER_ID, now + timedelta(hours=2), "staff post")
    swept = await engine.sweep()
    assert swept["moved"] == 1 and swept["pushed_again"] == 0
    # A pause longer than its horizon: a day later the window covers the first day's copies.
    fast_sandbox.control.clock(advance_seconds=86400)
    swept = await engine.sweep()
    assert swept["pushed_again"] > 0
    snapshot = state(fast_sandbox)
    now = fast_sandbox.sandbox.clock.now()
    left = in_window(snapshot, now, now + WEEK)
    authors = {(m.get("createdByMember") or {}).get("id") for m in left.values()}
    assert authors <= {EM_MEMBER_ID, ADMIN_MEMBER_ID}  # only the emergency team's posts
    assert snapshot["published"] == []  # nothing went out while paused
    assert staff["id"] in messages_by_id(snapshot)
    resumed = await engine.resume("original", by="tester")
    assert resumed["failed"] == 0
    # First-day messages' times have passed: they stay shifted, listed for review.
    assert resumed["kept"] == swept["pushed_again"]  # the staff post among them
    status = await engine.status()
    assert len(status["review"]) == resumed["kept"]
    assert pause["operation_id"] < resumed["operation_id"]


async def test_not_paused_enforcement_is_a_no_op(engine, fast_sandbox):
    assert await engine.enforce_message("123") == "not paused"
    assert await engine.sweep() == {"paused": False}


async def test_a_copy_whose_push_again_failed_is_tried_again(engine, fast_sandbox):
    from sqlalchemy import select

    from empause.store.models import JournalEntry

    pause = await engine.pause("storm", by="tester")
    fast_sandbox.control.clock(advance_seconds=86400)
    now = fast_sandbox.sandbox.clock.now()
    async with engine.ctx.db.sessions() as session:
        entries = (
            await session.execute(
                select(JournalEntry).where(JournalEntry.operation_id == pause["operation_id"])
            )
        ).scalars()
        entry = next(e for e in entries if e.new_time is not None and e.new_time < now + WEEK)
        copy_id = entry.new_id
        # As a push-again leaves it when the copy's DELETE was refused: the copy is still live.
        entry.step, entry.new_time = "failed", None
        await session.commit()
    swept = await engine.sweep()
    assert swept["retried"] == 1 and swept["pushed_again"] > 0
    snapshot = state(fast_sandbox)
    assert messages_by_id(snapshot)[copy_id]["state"] == "DELETED"
    left = in_window(snapshot, now, now + WEEK)
    authors = {(m.get("createdByMember") or {}).get("id") for m in left.values()}
    assert authors <= {EM_MEMBER_ID, ADMIN_MEMBER_ID}  # the copy was pushed out too
    assert snapshot["published"] == []


class _RefusesOnce:
    """The real platform, but the first DELETE of one message is refused for good (a 403)."""

    def __init__(self, platform, message_id: str) -> None:
        self._platform, self._message_id, self.refused = platform, message_id, 0

    def __getattr__(self, name: str):
        return getattr(self._platform, name)

    async def neutralise(self, message) -> None:
        if message.id == self._message_id and not self.refused:
            self.refused += 1
            raise Permanent("forbidden", code=403, status=403)
        await self._platform.neutralise(message)


async def test_a_failed_enforcement_alerts_backs_off_and_recovers(
    db, platform, fast_sandbox, monkeypatch
):
    from empause.engine import enforcement

    settings, clock = settings_for(fast_sandbox, db.url), sandbox_clock(fast_sandbox)
    engine = Engine(db, platform, default_organization(settings), clock=clock)
    await engine.pause("storm", by="tester")
    now = fast_sandbox.sandbox.clock.now()
    staff = post(fast_sandbox, STAFF_MEMBER_ID, now + timedelta(minutes=30), "staff post")
    flaky = _RefusesOnce(platform, staff["id"])
    engine = Engine(db, flaky, default_organization(settings), clock=clock)  # type: ignore[arg-type]

    swept = await engine.sweep()
    assert swept["moved"] == 1 and swept["failed"] == 1
    async with db.sessions() as session:
        alerts = (await session.execute(
            select(AuditEvent).where(AuditEvent.action == "enforce.failed")
        )).scalars().all()  # fmt: skip
        assert len(alerts) == 1 and alerts[0].detail["alert"] is True
        assert staff["id"] in alerts[0].detail["errors"]
    assert (await engine.status())["last_operation"]["status"] == "failed"

    again = await engine.sweep()  # within the backoff: not hammered
    assert again["retried"] == 0 and flaky.refused == 1
    monkeypatch.setattr(enforcement, "RETRY_BACKOFF", (timedelta(0),) * 4)
    recovered = await engine.sweep()
    assert recovered["retried"] == 1 and recovered["failed"] == 0
    assert messages_by_id(state(fast_sandbox))[staff["id"]]["state"] == "DELETED"
    async with db.sessions() as session:
        actions = (await session.execute(select(AuditEvent.action))).scalars().all()
    assert "enforce.recovered" in actions
    assert (await engine.status())["last_operation"]["status"] == "done"
