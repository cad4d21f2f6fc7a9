"""The SAP system API wired all-in-one for tests: the SAP simulator and the inventory process API
(on an embedded store of its own per test) as in-process WSGI apps."""

from __future__ import annotations

import fakeredis
import pytest

from process_apis.inventory.app import create_app as create_process_app
from simulators.sap.app import create_app as create_simulator
from simulators.sap.events import DeliveryPolicy
from simulators.sap.system import SimulatorOptions
from system_apis.sap.app import create_app
from tests.support.auth import service_client
from tests.system_apis.sap.support import LOCATION_MAP, LOCATIONS, make_settings


@pytest.fixture
def settings():
    return make_settings()


@pytest.fixture
def store():
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


@pytest.fixture
def process_app(settings, store):
    app = create_process_app(settings, store)
    client = service_client(app)
    for location in LOCATIONS:
        assert client.put(f"/inventory/v1/locations/{location}", json={"type": "store"}).status_code in (200, 201)
    return app


@pytest.fixture
def simulator(settings):
    options = SimulatorOptions(
        delivery=DeliveryPolicy(backoff_base_seconds=0.01, backoff_max_seconds=0.05, max_attempts=6)
    )
    app = create_simulator(settings, options=options)
    sap = app.extensions["sap_system"]
    for plant, sloc in (key.split("/") for key in LOCATION_MAP):
        sap.stock.add_storage_location(plant, sloc)
    sap.stock.add_storage_location("3030", "0001")  # a plant the gateway does not map
    sap.stock.add_material("MAT-1")
    sap.stock.add_material("MAT-2")
    yield app
    sap.close()


@pytest.fixture
def gateway(settings, process_app, simulator, store):
    return create_app(settings, process_app=process_app, sap_app=simulator, redis=store)
