"""`inventory-gateway serve` as a user runs it: gunicorn over real HTTP, against real Redis
and on the embedded store; the sweeper inside it; `replay --verify` from the command line."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.support.redis_servers import free_port

CLI = [sys.executable, "-m", "shared.cli"]
ROOT = Path(__file__).parents[2]
TIMEOUT = 5


def _serve(env_overrides: dict, *extra: str):
    port = free_port()
    env = {**os.environ, "SWEEPER_INTERVAL_SECONDS": "0.2", "LOG_LEVEL": "WARNING", **env_overrides}
    process = subprocess.Popen(
        [*CLI, "serve", "--demo", "--port", str(port), *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/readyz", timeout=TIMEOUT).status_code == 200:
                return process, base
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"gateway did not become ready:\n{process.communicate()[0]}")


def _stop(process) -> str:
    process.terminate()
    try:
        return process.communicate(timeout=15)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0]


@pytest.fixture
def gateway(redis_url):
    process, base = _serve({"REDIS_URL": redis_url}, "--workers", "2", "--threads", "4")
    yield base, redis_url
    _stop(process)


def _reserve(base: str, quantity: int, ttl: int) -> requests.Response:
    return requests.post(
        f"{base}/inventory/v1/reservations",
        json={"channel": "web", "external_ref": "E2E", "ttl_seconds": ttl,
              "lines": [{"sku": "MAT-1002", "location_group": "WEB-SHIP", "quantity": quantity}]},
        headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=TIMEOUT,
    )


def _available(base: str) -> int:
    body = requests.get(f"{base}/inventory/v1/availability",
                        params={"sku": "MAT-1002", "location_group": "WEB-SHIP", "channel": "web"}, timeout=TIMEOUT).json()
    return body["groups"][0]["available_to_sell"]


def test_serve_answers_with_demo_data_docs_and_correlation_id(gateway):
    base, _ = gateway
    response = requests.get(f"{base}/inventory/v1/availability", params={"sku": "MAT-1001"},
                            headers={"X-Correlation-ID": "e2e-corr-1"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["X-Correlation-ID"] == "e2e-corr-1"
    assert {p["location"] for p in response.json()["positions"]} >= {"DC01", "S001", "S003"}
    assert requests.get(f"{base}/docs", timeout=TIMEOUT).status_code == 200
    assert "/inventory/v1/events" in requests.get(f"{base}/openapi.json", timeout=TIMEOUT).json()["paths"]
    assert "inventory_events_total" in requests.get(f"{base}/metrics", timeout=TIMEOUT).text


def test_sweeper_in_serve_releases_an_expired_reservation_within_two_seconds(gateway):
    base, _ = gateway
    before = _available(base)
    created = _reserve(base, 2, ttl=1)
    assert created.status_code == 201, created.text
    assert _available(base) == before - 2
    expires_at = time.time() + 1
    reservation_url = f"{base}/inventory/v1/reservations/{created.json()['id']}"
    while time.time() < expires_at + 2:
        if requests.get(reservation_url, timeout=TIMEOUT).json()["status"] == "expired":
            break
        time.sleep(0.05)
    assert requests.get(reservation_url, timeout=TIMEOUT).json()["status"] == "expired"
    assert _available(base) == before


def test_replay_cli_rebuilds_positions_identical_to_the_live_ones(gateway):
    base, redis_url = gateway
    assert _reserve(base, 1, ttl=600).status_code == 201
    events = [{"event_id": f"e2e-{n}", "type": "stock.issued", "sku": "MAT-1003", "location": "S001", "quantity": 1,
               "occurred_at": "2030-01-01T00:00:00Z", "source": "e2e", "reason": "sale"} for n in range(3)]
    assert requests.post(f"{base}/inventory/v1/events", json={"events": events}, timeout=TIMEOUT).json()["applied"] == 3
    result = subprocess.run([*CLI, "replay", "--verify"], cwd=ROOT, env={**os.environ, "REDIS_URL": redis_url},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"differing_positions": []' in result.stdout


def test_embedded_store_serves_one_worker_and_says_nothing_persists():
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env["LOG_LEVEL"] = "INFO"
    process, base = _serve({**env, "REDIS_URL": ""}, "--workers", "3")
    try:
        assert _available(base) > 0
    finally:
        output = _stop(process)
    assert "embedded" in output and "1 worker instead of 3" in output
    assert "nothing persists" in output
