"""`empause pause --dry-run [--json]` as a user runs it: prints, changes nothing, and the
pause started right after moves exactly the count it printed."""

from __future__ import annotations

import json

from .conftest import state
from .test_cli import environment, run


def test_dry_run_json_then_pause_moves_the_same_count(fast_sandbox, database_url):
    env = environment(fast_sandbox, database_url)
    before = state(fast_sandbox)["messages"]
    done = run(["pause", "--dry-run", "--json"], env)
    assert done.returncode == 0, done.stderr
    preview = json.loads(done.stdout)
    assert {"messages", "by_profile", "by_day", "first_due"} <= set(preview)
    assert preview["messages"] > 0 and len(preview["first_due"]) > 0
    assert state(fast_sandbox)["messages"] == before  # a dry run changes nothing
    status = json.loads(run(["status", "--json"], env).stdout)
    assert status["paused"] is False
    text = run(["pause", "--dry-run", "--horizon", "2d"], env)
    assert text.returncode == 0 and "dry run: a pause now would move" in text.stdout
    assert run(["pause", "--dry-run", "--horizon", "soon"], env).returncode == 2
    assert run(["pause"], env).returncode == 2  # a real pause still needs a reason
    paused = json.loads(run(["pause", "--reason", "storm", "--json"], env).stdout)
    assert paused["in_scope"] == paused["moved"] == preview["messages"]
