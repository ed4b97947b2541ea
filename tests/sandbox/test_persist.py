"""A sandbox with a state file: every change is on disk before the answer, and a new sandbox
on the same file carries on (messages, history, publish log, clock, tokens)."""

from __future__ import annotations

import json

import httpx

from empause.sandbox import seed
from empause.sandbox.server import SandboxServer


def test_a_sandbox_started_again_on_its_file_carries_on(tmp_path):
    path = tmp_path / "world.json"
    with SandboxServer(messages=20, state_path=path) as first:
        assert not first.restored and path.is_file()
        control = first.control
        assert control is not None
        token = control.token(member_id=seed.EM_MEMBER_ID)
        victim = next(m for m in control.state()["messages"] if m["state"] == "SCHEDULED")
        gone = httpx.delete(f"{first.base_url}/v1/messages/{victim['id']}",
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert gone.status_code == 200
        # Written through: the file already says so, before any shutdown.
        on_disk = {m["id"]: m for m in json.loads(path.read_text())["world"]["messages"]}
        assert on_disk[victim["id"]]["deleted"] is True
        control.clock(advance_seconds=600)  # within the token's hour
        before = control.state()
    with SandboxServer(messages=20, state_path=path) as second:
        assert second.restored
        control = second.control
        assert control is not None
        after = control.state()
        # The token the app held still works; the world, log and clock are as they were.
        me = httpx.get(f"{second.base_url}/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
    assert after["messages"] == before["messages"]
    assert after["published"] == before["published"]
    assert abs(_seconds(after["now"]) - _seconds(before["now"])) < 60


def _seconds(stamp: str) -> float:
    from empause.domain.timeutil import parse_time

    return parse_time(stamp).timestamp()
