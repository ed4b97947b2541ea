"""Invariants 1-4 under chaos: faults, 429s, token expiry, and `kill -9` of `empause pause`.

Three seeds here (about half a minute, to keep `make test` short); `make bench` runs
`benchmarks/chaos_soak.py` with twenty, and `benchmarks/chaos_soak.py N` as many as you like.
"""

from __future__ import annotations

import pytest
from benchmarks.chaos_soak import chaos_run

SEEDS = range(1, 4)


@pytest.mark.slow
def test_pause_survives_faults_and_sigkill(sandbox_server, tmp_path):
    results = []
    try:
        for seed in SEEDS:
            results.append(chaos_run(sandbox_server, seed, tmp_path, max_kills=2))
    finally:
        sandbox_server.control.reset(seed="demo", messages=300, rng=7)
    assert sum(r["kills"] for r in results) >= len(results)  # really killed, and restarted
    for result in results:
        assert result["in_scope"] == 300 and result["moved"] == 300, result
        assert result["problems"] == [], result
