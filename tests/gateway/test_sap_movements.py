"""SAP goods movements end to end: the simulator's traffic driver posts over OData, business events
reach the gateway's webhook, and the gateway's positions end equal to SAP's own stock table.

The gateway runs as a user runs it (`inventory-gateway serve` against the real redis-server, the
simulator inside it); the driver, the admin calls and every read go over HTTP.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.demo import wait_past_second
from simulators.sap.driver import run_traffic
from tests.support.availability_receiver import wait_until
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

#: Five plants, eight storage locations: two DCs (one with a second storage location), five stores.
LOCATION_MAP = {
    "1010/0001": "DC01",
    "1010/0002": "DC01-B",
    "1020/0001": "DC02",
    "1110/0001": "S001",
    "1110/0002": "S002",
    "1210/0001": "S003",
    "1210/0002": "S004",
    "1310/0001": "S005",
}
DC_PLANTS = ("1010", "1020")
MATERIALS = tuple(f"MAT-{n}" for n in range(1001, 1041))
MOVEMENTS = 1000


def _landscape(seed: int = 5) -> dict:
    """The simulator's stock table (PUT /sap-sim/admin/stock): every material in pieces and in
    cartons of 12, some stock of every type at every storage location."""
    rng = random.Random(seed)
    stock = []
    for location in LOCATION_MAP:
        plant, sloc = location.split("/")
        dc = plant in DC_PLANTS
        for material in MATERIALS:
            for stock_type, (low, high) in {
                "01": (200, 400) if dc else (10, 40),
                "02": (1, 6),
                "07": (1, 4),
                "06": (0, 12),
            }.items():
                stock.append(
                    {
                        "material": material,
                        "plant": plant,
                        "storage_location": sloc,
                        "stock_type": stock_type,
                        "quantity": rng.randint(low, high),
                    }
                )
    return {
        "materials": [{"material": m, "base_unit": "PC", "conversions": {"KAR": 12}} for m in MATERIALS],
        "storage_locations": list(LOCATION_MAP),
        "stock": stock,
    }


@pytest.fixture
def gateway(redis_url, tmp_path):
    env = {
        "REDIS_URL": redis_url,
        "SAP_USER": "E2E_USER",
        "SAP_PASSWORD": "e2e-password",
        "SAP_WEBHOOK_SECRET": "e2e-webhook-secret",
        "SAP_LOCATION_MAP": json.dumps(LOCATION_MAP),
        "LOG_LEVEL": "WARNING",
        "GATEWAY_THREADS": "8",
    }
    process = start_gateway(env, logfile=tmp_path / "gateway.log")
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.slow
def test_driver_traffic_with_duplicated_and_reordered_pushes_ends_equal_to_sap_stock(gateway):
    base, sap, api = gateway.base_url, gateway.session(), gateway.api()
    assert sap.put(f"{base}{ADMIN}/stock", json=_landscape(), timeout=TIMEOUT).status_code == 200
    for location in sorted(set(LOCATION_MAP.values())):
        answer = api.put(
            f"{base}/inventory/v1/locations/{location}",
            timeout=TIMEOUT,
            json={"type": "dc" if location.startswith("DC") else "store"},
        )
        assert answer.status_code in (200, 201), answer.text
    synced = api.post(f"{base}/sap/v1/stock-sync", json={}, timeout=TIMEOUT).json()
    assert synced["positions"] == len(MATERIALS) * len(set(LOCATION_MAP.values()))
    wait_past_second(synced["read_at"])
    faults = {"duplicate_rate": 0.25, "reorder": 6, "reorder_max_hold_ms": 40, "seed": 17}
    assert sap.put(f"{base}{ADMIN}/faults", json=faults, timeout=TIMEOUT).status_code == 200

    posted, movement_types, round_ = 0, set(), 0
    while posted < MOVEMENTS:
        result = run_traffic(
            f"{base}{ODATA}",
            gateway.user,
            gateway.password,
            rate=400,
            duration=30,
            max_documents=MOVEMENTS - posted + 50,
            seed=round_,
            locations=tuple(LOCATION_MAP),
            dc_plants=DC_PLANTS,
        )
        assert result.errors == 0, result.to_dict()
        posted, movement_types, round_ = (
            posted + result.posted,
            movement_types | set(result.by_movement_type),
            round_ + 1,
        )
    flushed = sap.post(f"{base}{ADMIN}/deliveries/flush", json={"timeout": 60}, timeout=70).json()

    assert flushed["idle"] and flushed["undeliverable"] == 0, flushed
    assert flushed["duplicated"] > 0 and flushed["delivered"] == flushed["pushes"] > flushed["published"], flushed
    assert movement_types >= {
        "101",
        "251",
        "252",
        "301",
        "303",
        "305",
        "311",
        "321",
        "350",
        "551",
        "641",
        "651",
        "701",
        "702",
    }, movement_types
    snapshot = sap.get(f"{base}{ADMIN}/stock", timeout=TIMEOUT).json()
    assert differences(sap_table(snapshot, LOCATION_MAP), gateway_table(base, MATERIALS, api)) == []
    assert api.get(f"{base}/inventory/v1/dead-letters", timeout=TIMEOUT).json()["items"] == []


def test_a_movement_sap_posts_in_local_time_reaches_the_position_when_sap_time_zone_matches(redis_url, tmp_path):
    """The simulator's clock on Europe/Berlin, as an on-premise S/4 in Germany: its documents carry
    local wall time, an hour or two ahead of UTC, which the gateway would refuse as from_future if it
    read them as UTC. With SAP_TIME_ZONE set alike, the movement is applied."""
    env = {
        "REDIS_URL": redis_url,
        "SAP_USER": "E2E_USER",
        "SAP_PASSWORD": "e2e-password",
        "SAP_WEBHOOK_SECRET": "e2e-webhook-secret",
        "SAP_LOCATION_MAP": json.dumps({"1110/0001": "S001"}),
        "SAP_TIME_ZONE": "Europe/Berlin",
        "LOG_LEVEL": "WARNING",
    }
    gateway = start_gateway(env, logfile=tmp_path / "gateway.log")
    try:
        base, sap, api = gateway.base_url, gateway.session(), gateway.api()
        landscape = {"materials": [{"material": "MAT-1001", "base_unit": "PC"}], "storage_locations": ["1110/0001"]}
        assert sap.put(f"{base}{ADMIN}/stock", json={**landscape, "stock": []}, timeout=TIMEOUT).status_code == 200
        assert api.put(f"{base}/inventory/v1/locations/S001", json={"type": "store"}, timeout=TIMEOUT).ok

        document = CsrfSession(base, gateway.user, gateway.password).post_movement(
            "701", "MAT-1001", "1110", "0001", 3, code="05"
        )

        hours, minutes = re.match(r"PT(\d+)H(\d+)M", document["CreationTime"]).groups()
        local_now = datetime.now(ZoneInfo("Europe/Berlin"))
        entered = local_now.replace(hour=int(hours), minute=int(minutes))
        assert abs(local_now - entered) < timedelta(minutes=5)  # Berlin's wall clock, not UTC's
        table = lambda: gateway_table(base, ["MAT-1001"], api)  # noqa: E731
        assert wait_until(lambda: table().get(("MAT-1001", "S001"), {}).get("on_hand") == 3), table()
        assert api.get(f"{base}/inventory/v1/dead-letters", timeout=TIMEOUT).json()["items"] == []
    finally:
        gateway.stop()
