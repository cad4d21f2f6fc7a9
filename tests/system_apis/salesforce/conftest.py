"""The Salesforce system API wired all-in-one for tests: the Salesforce simulator and the inventory
process API as in-process WSGI apps, on a real redis-server (the session's, emptied per test)."""

from __future__ import annotations

import pytest

from process_apis.inventory.app import create_app as create_process_app
from shared.redis import create_redis
from simulators.salesforce.app import create_app as create_simulator
from system_apis.salesforce.app import create_app
from tests.support.auth import service_client
from tests.system_apis.salesforce.support import LOCATIONS, T0, count, make_settings

#: Retries wait milliseconds, not seconds, unless a test asks for Salesforce's Retry-After.
FAST = {"backoff": 0.001}


@pytest.fixture
def settings(redis_url):
    return make_settings(redis_url=redis_url)


@pytest.fixture
def store(settings):
    client = create_redis(settings)
    yield client
    client.close()


@pytest.fixture
def process_app(settings, store):
    app = create_process_app(settings, store)
    client = service_client(app)
    for location in LOCATIONS:
        assert client.put(f"/inventory/v1/locations/{location}", json={"type": "store"}).status_code in (200, 201)
    group = client.put("/inventory/v1/location-groups/WEB-SHIP", json={"members": ["S1", "S2"]})
    assert group.status_code in (200, 201)
    return app


@pytest.fixture
def simulator(settings):
    return create_simulator(settings)


@pytest.fixture
def gateway(settings, process_app, simulator, store):
    return create_app(settings, process_app=process_app, salesforce_app=simulator, redis=store, client_options=FAST)


@pytest.fixture
def client(gateway):
    return service_client(gateway)


@pytest.fixture
def process_client(process_app):
    return service_client(process_app)


@pytest.fixture
def stocked(process_client):
    """MAT-1: 10 at S1, 4 at S2 (both in WEB-SHIP), 3 of S1's on their way to DC1; MAT-2: 2 at S1."""
    count(process_client, "MAT-1", "S1", 13)
    count(process_client, "MAT-1", "S2", 4)
    count(process_client, "MAT-2", "S1", 2)
    shipped = {
        "event_id": "ship-1",
        "type": "transfer.shipped",
        "sku": "MAT-1",
        "location": "S1",
        "to_location": "DC1",
        "quantity": 3,
        "occurred_at": T0.replace(hour=11).isoformat(),
        "source": "sap",
    }
    assert process_client.post("/inventory/v1/events", json={"events": [shipped]}).get_json()["applied"] == 1
    return process_client
