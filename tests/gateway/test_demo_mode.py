"""`inventory-gateway serve --demo` as `make run` starts it: the SAP simulator beside the gateway on
the embedded store, credentials made up for the run, stock synced from SAP at start, and a goods
movement posted to the simulator's OData API visible in availability within a second."""

from __future__ import annotations

import os
import re
import time

import pytest
import requests

from gateway.demo import DEMO_CLIENTS
from simulators.sap.seed import DEMO_LOCATION_MAP, DEMO_MATERIALS
from tests.support.sap_gateway import (
    ADMIN,
    ODATA,
    TIMEOUT,
    CsrfSession,
    differences,
    gateway_table,
    sap_table,
    start_gateway,
)

pytestmark = pytest.mark.e2e

FRESHNESS_SECONDS = 1.0
SAP_SETTINGS = ("SAP_BASE_URL", "SAP_USER", "SAP_PASSWORD", "SAP_WEBHOOK_SECRET", "SAP_LOCATION_MAP", "REDIS_URL")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    for name in SAP_SETTINGS:
        if os.environ.get(name):
            pytest.skip(f"{name} is set in this environment; demo mode is tested without it")
    gateway = start_gateway(
        {"LOG_LEVEL": "INFO"}, "--demo", "--workers", "2", logfile=tmp_path_factory.mktemp("demo") / "serve.log"
    )
    try:
        yield gateway
    finally:
        gateway.stop()


def _on_hand(demo, sku: str, location: str) -> int:
    answer = demo.api().get(f"{demo.base_url}/inventory/v1/availability", params={"sku": sku}, timeout=TIMEOUT)
    return next(p["on_hand"] for p in answer.json()["positions"] if p["location"] == location)


def test_start_up_says_how_to_reach_everything_with_credentials_made_up_for_this_run(demo):
    output = demo.output()
    assert f"{demo.base_url}{ODATA}/" in output and f"{demo.base_url}/sap/v1/docs" in output
    assert demo.user.startswith("DEMO_") and len(demo.password) >= 20
    assert "generated for this run" in output
    assert "1 worker instead of 2" in output and "SAP simulator keeps its stock" in output
    assert requests.get(f"{demo.base_url}{ODATA}/API_MATERIAL_STOCK_SRV/", timeout=TIMEOUT).status_code == 401
    assert (
        requests.get(f"{demo.base_url}/sap/v1/openapi.json", timeout=TIMEOUT).json()["info"]["title"]
        == "SAP system API"
    )


def test_start_up_prints_a_demo_key_per_client_and_each_opens_only_its_own_apis(demo):
    keys = dict(re.findall(r"^\s+(demo-[\w-]+)\s+(igw_\S+)", demo.output(), re.MULTILINE))
    assert set(keys) == set(DEMO_CLIENTS)
    availability = f"{demo.base_url}/inventory/v1/availability?sku=MAT-1001"

    def status(client_id: str | None) -> int:
        headers = {"Authorization": f"Bearer {keys[client_id]}"} if client_id else {}
        return requests.get(availability, headers=headers, timeout=TIMEOUT).status_code

    assert status(None) == 401
    assert status("demo-operator") == 200 and status("demo-service") == 200
    assert status("demo-web-shop") == 403 and status("demo-store-s001") == 403


def test_gateway_positions_start_equal_to_the_simulators_stock(demo):
    snapshot = demo.session().get(f"{demo.base_url}{ADMIN}/stock", timeout=TIMEOUT).json()
    sap = sap_table(snapshot, DEMO_LOCATION_MAP)
    assert len(sap) == len(DEMO_MATERIALS) * len(DEMO_LOCATION_MAP)
    assert differences(sap, gateway_table(demo.base_url, DEMO_MATERIALS, demo.api())) == []


def test_a_goods_movement_posted_over_odata_shows_in_availability_within_a_second(demo):
    odata = CsrfSession(demo.base_url, demo.user, demo.password)
    before = _on_hand(demo, "MAT-1007", "S002")

    odata.post_movement("251", "MAT-1007", "1110", "0002", 2)
    posted = time.monotonic()
    while (seen := _on_hand(demo, "MAT-1007", "S002")) != before - 2:
        assert time.monotonic() - posted < FRESHNESS_SECONDS, f"on_hand still {seen}, expected {before - 2}"
        time.sleep(0.01)
