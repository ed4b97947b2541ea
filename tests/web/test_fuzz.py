"""Property-based fuzzing of every operation in the app's own OpenAPI document (Schemathesis),
with an API key and a signed-in session: whatever it sends, no answer is a server error."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from empause.sandbox import seed
from tests.web.helpers import create_api_key, signed_in

EXAMPLES_PER_OPERATION = 15


@pytest.fixture
def app_overrides():
    return {"rate_limit": 1000.0}


def test_no_input_yields_a_server_error(small_sandbox, app_server):
    base = app_server.base_url
    em = signed_in(base, seed.EM_EMAIL)
    headers = {"Authorization": f"Bearer {create_api_key(em)}"}
    cookies = dict(em.cookies)
    schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == "/api/pause" for op in operations), "the API is not in the schema"
    failures: list[str] = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case) -> None:
            response = case.call(base_url=base, headers=headers, cookies=cookies, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        fuzz()
    assert failures == []
    assert httpx.get(f"{base}/healthz").status_code == 200
