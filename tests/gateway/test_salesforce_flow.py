"""SAP traffic → gateway → Salesforce, end to end: `inventory-gateway serve --demo` against the real
redis-server, both simulators inside it, the SAP traffic driver posting goods movements over OData
and the Salesforce order driver reserving through the OCI-shaped API at the same time, every call
over HTTP. Afterwards every `Product_Availability__c` record in the Salesforce simulator equals the
gateway's availability for its key, and no record ever moved backwards in `As_Of__c`.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from simulators.salesforce.driver import run_orders
from simulators.sap.driver import run_traffic
from simulators.sap.seed import DC_PLANTS, DEMO_LOCATION_MAP, DEMO_MATERIALS
from tests.support.auth import bearer
from tests.support.salesforce_records import (
    RECORDS,
    SALESFORCE_AUTH,
    SALESFORCE_CLIENT_SECRET,
    SF_ADMIN,
    gateway_values,
    salesforce_records,
)
from tests.support.sap_gateway import ADMIN, ODATA, TIMEOUT, start_gateway

pytestmark = pytest.mark.e2e

SETTLE_SECONDS = 20


@pytest.fixture
def gateway(redis_url, tmp_path):
    env = {"REDIS_URL": redis_url, "LOG_LEVEL": "WARNING", "PUBLISHER_WINDOW_MS": "100", "GATEWAY_THREADS": "8"}
    for name in ("SAP_BASE_URL", "SALESFORCE_BASE_URL", "SALESFORCE_CLIENT_ID"):
        env[name] = ""
    env["SALESFORCE_CLIENT_SECRET"] = SALESFORCE_CLIENT_SECRET  # demo mode would make one up we cannot read
    process = start_gateway(env, "--demo", logfile=tmp_path / "gateway.log")
    try:
        yield process
    finally:
        process.stop()


def _differences(served) -> list[str]:
    records = salesforce_records(served.base_url)
    gateway = gateway_values(served, records)
    salesforce = {
        r["Availability_Key__c"]: (int(r["Available_To_Sell__c"]), int(r["Available_To_Order__c"]), r["Status__c"])
        for r in records
    }
    return [
        f"{key}: salesforce {salesforce[key]} gateway {gateway.get(key)}"
        for key in sorted(salesforce)
        if salesforce[key] != gateway.get(key)
    ]


def _expected_keys(gateway) -> set[str]:
    """Every key the publisher owes Salesforce: each SKU at each location for each channel the
    location serves, and at each location group for the group's channel."""
    api = gateway.api()
    locations = api.get(f"{gateway.base_url}/inventory/v1/locations", timeout=TIMEOUT).json()
    groups = api.get(f"{gateway.base_url}/inventory/v1/location-groups", timeout=TIMEOUT).json()
    scopes = [(location["id"], channel) for location in locations for channel in location["channels"]]
    scopes += [(group["id"], group["channel"]) for group in groups]
    return {f"{sku}|{where}|{channel}" for sku in DEMO_MATERIALS for where, channel in scopes}


@pytest.mark.slow
def test_salesforce_records_follow_sap_movements_and_reservations_and_never_go_back(gateway):
    base = gateway.base_url
    orders: dict = {}
    reserving = threading.Thread(
        target=lambda: orders.update(
            result=run_orders(
                base,
                rate=8,
                duration=4,
                skus=DEMO_MATERIALS,
                locations=("S001", "S002", "S003"),
                seed=3,
                headers=bearer(gateway.api_key),
            )
        )
    )
    reserving.start()
    movements = run_traffic(
        f"{base}{ODATA}",
        gateway.user,
        gateway.password,
        rate=60,
        duration=4,
        seed=11,
        locations=tuple(DEMO_LOCATION_MAP),
        dc_plants=DC_PLANTS,
    )
    reserving.join()
    flushed = gateway.session().post(f"{base}{ADMIN}/deliveries/flush", json={"timeout": 30}, timeout=40).json()
    assert movements.errors == 0 and movements.posted > 100, movements.to_dict()
    assert orders["result"].errors == 0 and orders["result"].reserved > 0, orders["result"].to_dict()
    assert flushed["idle"] and flushed["undeliverable"] == 0, flushed

    deadline = time.monotonic() + SETTLE_SECONDS
    while differences := _differences(gateway):
        assert time.monotonic() < deadline, f"{len(differences)} records differ, e.g. {differences[:5]}"
        time.sleep(0.2)

    records = salesforce_records(base)
    assert {r["Availability_Key__c"] for r in records} == _expected_keys(gateway)
    for record in records:
        history = requests.get(
            f"{base}{SF_ADMIN}/history/{RECORDS}/{record['Id']}", auth=SALESFORCE_AUTH, timeout=TIMEOUT
        ).json()
        as_of = [entry["fields"]["As_Of__c"] for entry in history]
        assert as_of == sorted(as_of), f"{record['Availability_Key__c']} went back in As_Of__c: {as_of}"
