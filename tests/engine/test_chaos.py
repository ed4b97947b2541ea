"""Invariants 1-4 under chaos: faults, 429s, token expiry, and `kill -9` of `empause pause`,
on both platforms' sandboxes.

Three seeds on Hootsuite and two on SocialHub here (about a minute, to keep `make test`
short); `make bench` runs `benchmarks/chaos_soak.py` with a hundred on each, and
`benchmarks/chaos_soak.py N [--platform P]` as many as you like.
"""

from __future__ import annotations

import pytest
from benchmarks.chaos_soak import chaos_run

SEEDS = {"hootsuite": range(1, 4), "socialhub": range(1, 3)}
SERVERS = {"hootsuite": "sandbox_server", "socialhub": "socialhub_server"}


@pytest.mark.slow
@pytest.mark.parametrize("platform", list(SEEDS))
def test_pause_survives_faults_and_sigkill(platform, request, tmp_path):
    server = request.getfixturevalue(SERVERS[platform])
    results = []
    try:
        for seed in SEEDS[platform]:
            results.append(chaos_run(server, seed, tmp_path, max_kills=2, platform=platform))
    finally:
        if platform == "socialhub":
            server.control.reset(seed="demo", posts=300, rng=7)
        else:
            server.control.reset(seed="demo", messages=300, rng=7)
    assert sum(r["kills"] for r in results) >= len(results)  # really killed, and restarted
    for result in results:
        assert result["expected"] > 250, result  # nearly all 300 are in the 31-day window
        assert result["in_scope"] == result["moved"] == result["expected"], result
        assert result["problems"] == [], result


def test_the_socialhub_check_sees_a_double_move_a_missed_post_and_a_publication():
    """The soak's verdict can fail: a post moved twice, one left, one published are named."""
    from datetime import timedelta

    from benchmarks.chaos_soak import check_socialhub

    from empause.domain.timeutil import parse_time

    def post(pid: str, when: str, history: list[dict] | None = None) -> dict:
        return {"_id": pid, "status": "scheduled", "publishTime": when, "channel": {"id": "c"},
                "content": {"text": pid}, "author": "a", "postGroupId": "g" + pid, "tags": [],
                "accountId": "x", "createdTime": "t", "history": history or []}  # fmt: skip

    shift = timedelta(days=31)
    before = {"posts": [post("a", "2030-01-01T10:00:00.000Z"),
                        post("b", "2030-01-02T10:00:00.000Z")], "published": []}  # fmt: skip
    moved = {"action": "updated", "from": "2030-01-01T10:00:00.000Z",
             "to": "2030-02-01T10:00:00.000Z"}  # fmt: skip
    again = {"action": "updated", "from": "2030-03-04T10:00:00.000Z",
             "to": "2030-02-01T10:00:00.000Z"}  # fmt: skip
    after = {"posts": [post("a", "2030-02-01T10:00:00.000Z", [moved, again]),
                       post("b", "2030-01-02T10:00:00.000Z")],
             "published": [{"_id": "b"}]}  # fmt: skip
    problems = check_socialhub(before, after, parse_time("2030-01-01T00:00:00Z"), shift)
    assert any(p.startswith("a: moved 2 times") for p in problems), problems
    assert any(p.startswith("b: scheduled at") for p in problems), problems
    assert any(p.startswith("published while paused") for p in problems), problems
    after["posts"][0]["history"] = [moved]
    after["posts"][1] = post(
        "b",
        "2030-02-02T10:00:00.000Z",
        [
            {
                "action": "updated",
                "from": "2030-01-02T10:00:00.000Z",
                "to": "2030-02-02T10:00:00.000Z",
            }
        ],
    )
    after["published"] = []
    assert check_socialhub(before, after, parse_time("2030-01-01T00:00:00Z"), shift) == []
