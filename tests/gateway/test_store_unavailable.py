"""Redis down: every API of the gateway answers what needs Redis with a 503 problem and Retry-After (the
client may repeat it shortly), never a 500; /livez stays 200 and /readyz says 503."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from gateway.composition import create_gateway
from gateway.settings import Settings
from shared.auth import new_api_key
from tests.support.redis_servers import free_port

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def gateway():
    # Nothing listens on the port: every Redis call is refused at once (as while Redis restarts).
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", log_level="CRITICAL")
    return Client(create_gateway(settings))


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/inventory/v1/availability?sku=MAT-1"),
        ("POST", "/inventory/v1/events"),
        ("GET", "/inventory/v1/dead-letters"),
        ("GET", "/web/v1/availability?sku=MAT-1&postal_code=10117"),
        ("GET", "/call-centre/v1/availability?sku=MAT-1"),
        ("GET", "/store/v1/stores/S001/products/MAT-1"),
    ],
)
def test_a_call_needing_redis_is_a_503_problem_with_retry_after(gateway, method, path):
    # Checking the key is the first thing that needs Redis, for every API.
    headers = {"Authorization": f"Bearer {new_api_key('some-client')}", "Idempotency-Key": "k-1"}
    answer = gateway.open(path, method=method, headers=headers, json={"events": []} if method == "POST" else None)
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"] == PROBLEM and answer.headers["Retry-After"] == "1"
    assert answer.get_json()["type"].endswith("/store-unavailable")


def test_liveness_holds_and_readiness_says_why(gateway):
    assert gateway.get("/livez").status_code == 200
    answer = gateway.get("/readyz")
    assert answer.status_code == 503 and answer.get_json()["checks"] == {"redis": "unreachable"}
