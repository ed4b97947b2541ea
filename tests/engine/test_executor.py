"""The executor's retry discipline, against a platform that never gives a clear answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from empause.domain.model import Message, Step
from empause.engine.executor import Executor, UpstreamUnavailable
from empause.engine.journal import Job
from empause.platforms.port import Ambiguous, NotFound, Transient


class _Writer:
    def __init__(self) -> None:
        self.deferred: list[tuple[int, dict[str, Any]]] = []

        self.written: list[tuple[int, dict[str, Any]]] = []

    def defer(self, entry_id: int, **fields: Any) -> None:
        self.deferred.append((entry_id, fields))

    async def write(self, entry_id: int, **fields: Any) -> None:
        self.written.append((entry_id, fields))


class _Unanswered:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    async def neutralise(self, message: Message) -> None:
        self.calls += 1
        raise self.error


def _job() -> Job:
    when = datetime(2030, 1, 1, tzinfo=UTC)
    message = Message(id="m1", state="SCHEDULED", scheduled_send_time=when, profile_id="p1")
    return Job(entry_id=1, message=message, step=Step.PLANNED)


@pytest.mark.parametrize("error", [Ambiguous("lost"), Transient("503")])
async def test_neutralise_never_takes_an_unanswered_delete_for_success(error, monkeypatch):
    monkeypatch.setattr("empause.engine.executor.TRANSIENT_BACKOFF", (0.0, 0.0, 0.0))
    platform, writer, job = _Unanswered(error), _Writer(), _job()
    executor = Executor(platform, writer, set())  # type: ignore[arg-type]
    with pytest.raises(UpstreamUnavailable):
        await executor.neutralise(job, Step.NEUTRALISED)
    assert platform.calls == 4  # the first try and three more
    assert job.step is Step.PLANNED and writer.deferred == []  # still to do on the next run
    assert executor.done == 0


class _LostThenGone:
    """The first DELETE's answer is lost; the repeat finds the message gone (it worked)."""

    def __init__(self) -> None:
        self.calls = 0

    async def neutralise(self, message: Message) -> None:
        self.calls += 1
        raise Ambiguous("lost") if self.calls == 1 else NotFound("gone")


async def test_neutralise_after_a_lost_answer_is_recorded_once():
    platform, writer, job = _LostThenGone(), _Writer(), _job()
    progress: list[tuple[int, int, str]] = []
    executor = Executor(platform, writer, set(), lambda *a: progress.append(a))  # type: ignore[arg-type]
    executor.start_phase("neutralising", 1)
    await executor.neutralise(job, Step.NEUTRALISED)
    assert platform.calls == 2 and job.step is Step.NEUTRALISED
    assert writer.written == [(1, {"attempts": 1})]  # durable before the first DELETE
    assert writer.deferred == [
        (1, {"step": "neutralised", "attempts": 0, "last_error": "already gone upstream"})
    ]
    assert progress[-1] == (1, 1, "neutralising")


class _Gone:
    """The message is not there at the first DELETE: its author deleted it after our listing."""

    def __init__(self) -> None:
        self.calls = 0

    async def neutralise(self, message: Message) -> None:
        self.calls += 1
        raise NotFound("gone")


@pytest.mark.parametrize("after", [Step.NEUTRALISED, Step.HELD])
async def test_a_message_deleted_by_its_author_before_we_touched_it_stays_deleted(after):
    platform, writer, job = _Gone(), _Writer(), _job()
    executor = Executor(platform, writer, set())  # type: ignore[arg-type]
    await executor.neutralise(job, after)
    assert job.step is Step.SKIPPED  # never re-created, never held for resume
    ((_, fields),) = writer.deferred
    assert fields["step"] == "skipped" and "someone else" in fields["last_error"]


async def test_after_a_crash_the_same_not_found_is_our_own_earlier_delete():
    platform, writer, job = _Gone(), _Writer(), _job()
    job.attempts = 1  # journaled before a DELETE whose outcome a crash hid
    executor = Executor(platform, writer, set())  # type: ignore[arg-type]
    await executor.neutralise(job, Step.NEUTRALISED)
    assert job.step is Step.NEUTRALISED  # ours: the copy will be made


async def test_a_not_found_after_a_failed_attempt_is_ours(monkeypatch):
    monkeypatch.setattr("empause.engine.executor.TRANSIENT_BACKOFF", (0.0, 0.0, 0.0))

    class _FailsThenGone:
        calls = 0

        async def neutralise(self, message: Message) -> None:
            self.calls += 1
            raise Transient("503") if self.calls == 1 else NotFound("gone")

    writer, job = _Writer(), _job()
    executor = Executor(_FailsThenGone(), writer, set())  # type: ignore[arg-type]
    await executor.neutralise(job, Step.NEUTRALISED)
    assert job.step is Step.NEUTRALISED  # the 503 may have deleted it: never lose a message
