"""`inventory-gateway serve` as a user runs it: gunicorn over real HTTP, against real Redis
and on the embedded store; the sweeper inside it; `replay --verify` from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.availability_receiver import wait_until
from tests.support.sap_gateway import start_gateway

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "gateway"]
ROOT = Path(__file__).parents[2]
TIMEOUT = 5


@pytest.fixture
def gateway(redis_url, tmp_path):
    served = start_gateway(
        {"REDIS_URL": redis_url, "SWEEPER_INTERVAL_SECONDS": "0.2", "LOG_LEVEL": "WARNING"},
        "--demo",
        "--workers",
        "2",
        "--threads",
        "4",
        logfile=tmp_path / "serve.log",
    )
    yield served
    served.stop()


def _reserve(gateway, quantity: int, ttl: int) -> requests.Response:
    return gateway.api().post(
        f"{gateway.base_url}/inventory/v1/reservations",
        json={
            "channel": "web",
            "external_ref": "E2E",
            "ttl_seconds": ttl,
            "lines": [{"sku": "MAT-1002", "location_group": "WEB-SHIP", "quantity": quantity}],
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=TIMEOUT,
    )


def _available(gateway) -> int:
    body = (
        gateway.api()
        .get(
            f"{gateway.base_url}/inventory/v1/availability",
            params={"sku": "MAT-1002", "location_group": "WEB-SHIP", "channel": "web"},
            timeout=TIMEOUT,
        )
        .json()
    )
    return body["groups"][0]["available_to_sell"]


def test_serve_answers_with_demo_data_docs_and_correlation_id(gateway):
    base = gateway.base_url
    response = gateway.api().get(
        f"{base}/inventory/v1/availability",
        params={"sku": "MAT-1001"},
        headers={"X-Correlation-ID": "e2e-corr-1"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert response.headers["X-Correlation-ID"] == "e2e-corr-1"
    assert {p["location"] for p in response.json()["positions"]} >= {"DC01", "S001", "S003"}
    assert requests.get(f"{base}/docs", timeout=TIMEOUT).status_code == 200
    assert "/inventory/v1/events" in requests.get(f"{base}/openapi.json", timeout=TIMEOUT).json()["paths"]
    assert "inventory_events_total" in requests.get(f"{base}/metrics", timeout=TIMEOUT).text


def _livez_requests(base: str) -> float:
    """gateway_http_requests_total of /livez as one scrape of /metrics reports it."""
    families = text_string_to_metric_families(requests.get(f"{base}/metrics", timeout=TIMEOUT).text)
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == "gateway_http_requests_total" and sample.labels.get("endpoint") == "/livez"
    )


def test_metrics_of_several_workers_count_every_request_whichever_worker_answers(redis_url, tmp_path):
    served = start_gateway(
        {"REDIS_URL": redis_url, "LOG_LEVEL": "WARNING"},
        "--workers",
        "2",
        "--threads",
        "4",
        logfile=tmp_path / "serve.log",
    )
    try:
        # The gateway answers once one worker does; the other may still be starting.
        assert wait_until(lambda: served.output().count("Booting worker") == 2, timeout=TIMEOUT)
        callers = [requests.Session() for _ in range(20)]  # 20 connections held open: both workers take some
        for caller in callers:
            assert caller.get(f"{served.base_url}/livez", timeout=TIMEOUT).status_code == 200
        assert {_livez_requests(served.base_url) for _ in range(6)} == {20}
        for caller in callers:
            caller.close()
    finally:
        served.stop()


def test_sweeper_in_serve_releases_an_expired_reservation_within_two_seconds(gateway):
    api = gateway.api()
    before = _available(gateway)
    created = _reserve(gateway, 2, ttl=1)
    assert created.status_code == 201, created.text
    assert _available(gateway) == before - 2
    expires_at = time.time() + 1
    reservation_url = f"{gateway.base_url}/inventory/v1/reservations/{created.json()['id']}"
    while time.time() < expires_at + 2:
        if api.get(reservation_url, timeout=TIMEOUT).json()["status"] == "expired":
            break
        time.sleep(0.05)
    assert api.get(reservation_url, timeout=TIMEOUT).json()["status"] == "expired"
    assert _available(gateway) == before


def test_replay_cli_rebuilds_positions_identical_to_the_live_ones(gateway, redis_url):
    assert _reserve(gateway, 1, ttl=600).status_code == 201
    events = [
        {
            "event_id": f"e2e-{n}",
            "type": "stock.issued",
            "sku": "MAT-1003",
            "location": "S001",
            "quantity": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "source": "e2e",
            "reason": "sale",
        }
        for n in range(3)
    ]
    posted = gateway.api().post(f"{gateway.base_url}/inventory/v1/events", json={"events": events}, timeout=TIMEOUT)
    assert posted.json()["applied"] == 3
    result = subprocess.run(
        [*CLI, "replay", "--verify"],
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"differing_positions": []' in result.stdout


def test_embedded_store_serves_one_worker_and_says_nothing_persists(tmp_path):
    served = start_gateway(
        {"REDIS_URL": "", "LOG_LEVEL": "INFO"}, "--demo", "--workers", "3", logfile=tmp_path / "serve.log"
    )
    try:
        assert _available(served) > 0
    finally:
        output = served.stop()
    assert "embedded" in output and "1 worker instead of 3" in output
    assert "nothing persists" in output
