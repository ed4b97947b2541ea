"""Many organizations from a terminal, as an operator runs them: `empause org ...` and
`--org`, against the sandbox seeded with several organizations (real HTTP, real database)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from empause.domain.timeutil import parse_time
from tests.engine.conftest import FAST_RATE
from tests.engine.test_cli import environment, run

SECRET_KEY = "a-test-secret-key-of-more-than-thirty-two-characters"


@pytest.fixture
def two_orgs(sandbox: Any) -> Any:
    sandbox.control.reset(seed="demo", messages=40, rng=7, organizations=2)
    sandbox.control.faults(rate_limit=FAST_RATE)
    return sandbox


def _second(sandbox: Any) -> dict[str, Any]:
    return sandbox.control.state()["organizations"][1]


def _scheduled(sandbox: Any, organization_id: str) -> dict[str, str]:
    """Live scheduled messages of one organization: id -> send time."""
    return {
        m["id"]: m["scheduledSendTime"] for m in sandbox.control.state()["messages"]
        if m["state"] == "SCHEDULED" and str(m["organizationId"]) == organization_id
    }  # fmt: skip


def test_org_add_list_set_remove_and_pause_one_organization(two_orgs, database_url):
    env = environment(two_orgs, database_url, EMPAUSE_SECRET_KEY=SECRET_KEY)
    second = _second(two_orgs)
    org_id, team = str(second["id"]), str(second["emergency_team_id"])

    wrong_team = run(["org", "add", "--id", org_id, "--emergency-team", "424242"], env)
    assert wrong_team.returncode == 2 and "no team 424242" in wrong_team.stderr
    wrong_org = run(["org", "add", "--id", "1", "--emergency-team", team], env)
    assert wrong_org.returncode in (2, 3) and "organization 1" in wrong_org.stderr
    bad_id = run(["org", "add", "--id", "../x", "--emergency-team", team], env)
    assert bad_id.returncode == 2 and "letters, digits" in bad_id.stderr

    added = run(["org", "add", "--id", org_id, "--emergency-team", team, "--name", "Second",
                 "--json"], env)  # fmt: skip
    assert added.returncode == 0, added.stderr
    shown = json.loads(added.stdout)
    assert shown["id"] == org_id and shown["emergency_team_id"] == team
    assert "/webhooks/hootsuite/" in shown["webhook_url"]
    again = run(["org", "add", "--id", org_id, "--emergency-team", team], env)
    assert again.returncode == 2 and "already protected" in again.stderr

    listed = json.loads(run(["org", "list", "--json"], env).stdout)
    assert {o["id"] for o in listed} == {env["EMPAUSE_ORGANIZATION_ID"], org_id}
    assert all("credentials" not in json.dumps(o) for o in listed)

    ambiguous = run(["pause", "--reason", "storm", "--json"], env)
    assert ambiguous.returncode == 2
    assert "choose one with --org" in ambiguous.stderr and org_id in ambiguous.stderr
    unknown = run(["status", "--org", "999", "--json"], env)
    assert unknown.returncode == 2 and "no organization 999" in unknown.stderr

    set_ = run(["org", "set", org_id, "--horizon", "60d"], env)
    assert set_.returncode == 0, set_.stderr
    bad_set = run(["org", "set", org_id, "--strategy", "explode"], env)
    assert bad_set.returncode == 2 and "strategy must be one of" in bad_set.stderr

    first_before = _scheduled(two_orgs, env["EMPAUSE_ORGANIZATION_ID"])
    second_before = _scheduled(two_orgs, org_id)
    start = parse_time(two_orgs.control.state()["now"])
    paused = run(["pause", "--org", org_id, "--reason", "storm", "--json"], env)
    assert paused.returncode == 0, paused.stderr
    summary = json.loads(paused.stdout)
    assert summary["moved"] == len(second_before) > 0  # the whole 60-day window (org set)
    assert _scheduled(two_orgs, env["EMPAUSE_ORGANIZATION_ID"]) == first_before  # untouched
    assert all(parse_time(t) >= start for t in _scheduled(two_orgs, org_id).values())

    status = json.loads(run(["status", "--org", org_id, "--json"], env).stdout)
    assert status["paused"] is True and status["last_operation"]["status"] == "done"
    other = json.loads(
        run(["status", "--org", env["EMPAUSE_ORGANIZATION_ID"], "--json"], env).stdout
    )
    assert other["paused"] is False

    refused = run(["org", "remove", org_id], env)
    assert refused.returncode == 2 and "resume it before removing" in refused.stderr
    assert run(["resume", "--org", org_id, "--json"], env).returncode == 0
    assert len(_scheduled(two_orgs, org_id)) == len(second_before)
    removed = run(["org", "remove", org_id], env)
    assert removed.returncode == 0, removed.stderr
    listed = json.loads(run(["org", "list", "--json"], env).stdout)
    assert [o["id"] for o in listed] == [env["EMPAUSE_ORGANIZATION_ID"]]


def test_a_socialhub_organization_is_added_by_its_token_and_paused_in_place(
    socialhub, sandbox, database_url
):
    from empause.sandbox.socialhub import seed as sh

    socialhub.control.faults(rate_limit=FAST_RATE)
    env = environment(sandbox, database_url, EMPAUSE_SECRET_KEY=SECRET_KEY)
    wrong = run(["org", "add", "--platform", "socialhub", "--base-url", socialhub.base_url,
                 "--access-token", "not-a-token", "--emergency-team", sh.EM_TEAM_ID], env)  # fmt: skip
    assert wrong.returncode == 3 and "refused the access token" in wrong.stderr
    no_team = run(["org", "add", "--platform", "socialhub", "--base-url", socialhub.base_url,
                   "--access-token", sh.ACCOUNT_TOKEN, "--emergency-team", "0" * 24], env)  # fmt: skip
    assert no_team.returncode == 2 and "no team" in no_team.stderr

    added = run(["org", "add", "--platform", "socialhub", "--base-url", socialhub.base_url,
                 "--access-token", sh.ACCOUNT_TOKEN, "--emergency-team", sh.EM_TEAM_ID,
                 "--json"], env)  # fmt: skip
    assert added.returncode == 0, added.stderr
    shown = json.loads(added.stdout)
    assert shown["id"] == sh.ACCOUNT_ID and shown["platform"] == "socialhub"
    assert sh.ACCOUNT_TOKEN not in added.stdout  # the token is stored encrypted, never shown

    before = {p["_id"]: p for p in socialhub.control.state()["posts"]}
    paused = run(["pause", "--org", sh.ACCOUNT_ID, "--reason", "storm", "--json"], env)
    assert paused.returncode == 0, paused.stderr
    summary = json.loads(paused.stdout)
    assert summary["moved"] == summary["in_scope"] > 0
    after = {p["_id"]: p for p in socialhub.control.state()["posts"]}
    assert set(after) == set(before)  # moved in place: nothing deleted or re-created
    moved = [i for i in before if after[i]["publishTime"] != before[i]["publishTime"]]
    assert len(moved) == summary["moved"]
    resumed = run(["resume", "--org", sh.ACCOUNT_ID, "--json"], env)
    assert resumed.returncode == 0, resumed.stderr
    back = {p["_id"]: p["publishTime"] for p in socialhub.control.state()["posts"]}
    assert all(back[i] == before[i]["publishTime"] for i in moved)
