"""`empause pause --until / --at` and `empause pause-end` as a user runs them (SQLite: the
timer is kept in the organization's row for a running serve or worker)."""

from __future__ import annotations

import json

from .test_cli import environment, run


def test_until_at_and_pause_end_from_the_terminal(fast_sandbox, database_url):
    env = environment(fast_sandbox, database_url)
    assert run(["pause", "--reason", "x", "--until", "yesterday"], env).returncode == 2
    assert run(["pause", "--reason", "x", "--until", "200d"], env).returncode == 2
    assert run(["pause", "--reason", "x", "--until", "2h", "--restore", "maybe"], env).returncode == 2
    scheduled = run(["pause", "--reason", "drill", "--at", "1h", "--until", "2h", "--json"], env)
    assert scheduled.returncode == 0, scheduled.stderr
    assert json.loads(scheduled.stdout)["starts_at"]
    status = json.loads(run(["status", "--json"], env).stdout)
    assert status["paused"] is False and status["starts_at"] == json.loads(scheduled.stdout)["starts_at"]
    paused = run(["pause", "--reason", "storm", "--until", "90m", "--restore", "keep", "--json"], env)
    assert paused.returncode == 0, paused.stderr
    ends = json.loads(paused.stdout)["ends_at"]
    status = json.loads(run(["status", "--json"], env).stdout)
    assert status["ends_at"] == ends and status["end_restore"] == "keep" and status["starts_at"] is None
    shown = run(["status"], env)
    assert f"ends by itself at {ends}" in shown.stdout
    later = json.loads(run(["pause-end", "--until", "3h", "--json"], env).stdout)
    assert later["ends_at"] > ends
    assert run(["pause-end"], env).returncode == 2
    cancelled = run(["pause-end", "--cancel"], env)
    assert cancelled.returncode == 0 and "no longer ends by itself" in cancelled.stdout
    assert json.loads(run(["status", "--json"], env).stdout)["ends_at"] is None
