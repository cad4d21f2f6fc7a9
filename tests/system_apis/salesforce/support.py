"""Helpers of the Salesforce system API tests: settings, outcomes, the simulator's admin API,
seeding the process API, and choosing fault seeds so that a fault strikes exactly when wanted."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from gateway.settings import Settings

CLIENT_ID, CLIENT_SECRET = "3MVG9-gateway-test", "test-client-secret"
ADMIN = "/sf-sim/admin"
OCI = "/salesforce/v1/oci"
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LOCATIONS = ("S1", "S2", "DC1")


def make_settings(**overrides) -> Settings:
    values = dict(salesforce_client_id=CLIENT_ID, salesforce_client_secret=CLIENT_SECRET, upstream_attempts=3)
    return Settings(**{**values, **overrides})


def outcome(
    sku: str = "MAT-1",
    location: str | None = "S1",
    *,
    group: str | None = None,
    channel: str = "web",
    ats: int = 5,
    ato: int = 7,
    status: str = "in_stock",
    ms: int = 0,
) -> dict:
    return {
        "sku": sku,
        "location": None if group else location,
        "location_group": group,
        "channel": channel,
        "available_to_sell": ats,
        "available_to_order": ato,
        "status": status,
        "as_of": (T0 + timedelta(milliseconds=ms)).isoformat(),
        "occurred_at": T0.isoformat(),
    }


def admin(simulator, method: str, path: str, **kwargs):
    """Call the simulator's admin API the way an operator would (Basic auth, over its WSGI app)."""
    response = simulator.test_client().open(f"{ADMIN}/{path}", method=method, auth=(CLIENT_ID, CLIENT_SECRET), **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def records(simulator, name: str = "Product_Availability__c") -> dict[str, dict]:
    """The simulator's records of `name`, by availability key."""
    return {record["Availability_Key__c"]: record for record in admin(simulator, "GET", f"records/{name}")}


def seed_where(rate: float, pattern: str, limit: int = 10_000) -> int:
    """A fault seed whose first dice rolls strike (`x`) or pass (`.`) as `pattern` says, when one die
    is rolled per REST call at `rate` (the simulator's Faults with one kind of fault switched on)."""
    for seed in range(limit):
        dice = random.Random(seed)
        if all((dice.random() < rate) == (mark == "x") for mark in pattern):
            return seed
    raise AssertionError(f"no seed below {limit} rolls {pattern}")


def count(process_client, sku: str, location: str, quantity: int, event_id: str | None = None) -> None:
    """Tell the process API that `quantity` units of `sku` are on hand at `location` (a stock count)."""
    event = {
        "event_id": event_id or f"count-{sku}-{location}-{quantity}",
        "type": "stock.counted",
        "sku": sku,
        "location": location,
        "quantity": quantity,
        "occurred_at": T0.isoformat(),
        "source": "sap",
    }
    answer = process_client.post("/inventory/v1/events", json={"events": [event]}).get_json()
    assert answer["applied"] == 1, answer


def reserve(client, action_id="act-1", *records, partial=False, ref="ORDER-1", seconds=900):
    """POST an OCI reservation (by default 2 of MAT-1 at S1 for ORDER-1)."""
    body = {
        "actionRequestId": action_id,
        "externalRefId": ref,
        "expirationSeconds": seconds,
        "allowPartialReservations": partial,
        "createRecords": list(records) or [{"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 2}],
    }
    return client.post(f"{OCI}/reservations", json=body)


def reserved_at(process_client, sku="MAT-1", location="S1") -> int:
    answer = process_client.get("/inventory/v1/availability", query_string={"sku": sku, "location": location})
    return answer.get_json()["positions"][0]["reserved"]
