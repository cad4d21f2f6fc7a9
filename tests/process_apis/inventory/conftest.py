"""Fixtures of the process API's tests over HTTP: the app against a real redis-server (emptied for
each test), its test client with a service's credentials, and a small network of locations."""

from __future__ import annotations

import pytest

from gateway.settings import Settings
from process_apis.inventory.app import create_app
from shared.redis import create_redis
from tests.process_apis.inventory.support import V1
from tests.support.auth import service_client


@pytest.fixture
def app(redis_url):
    settings = Settings.from_env({"REDIS_URL": redis_url})
    return create_app(settings, create_redis(settings))


@pytest.fixture
def api(app):
    return service_client(app)


@pytest.fixture
def network(api):
    """S1, S2 stores and D1 serve web; S3 serves only the store channel.
    WEB-SHIP (priority) and WEB-MOST (most_available) group S1, S2, S3."""
    for location_id, body in {
        "S1": {"type": "store", "channels": ["web", "store"], "fulfilment_methods": ["ship", "pickup"]},
        "S2": {"type": "store", "channels": ["web", "store"], "fulfilment_methods": ["ship"]},
        "S3": {"type": "store", "channels": ["store"]},
        "D1": {"type": "dc", "channels": ["web"]},
    }.items():
        assert api.put(f"{V1}/locations/{location_id}", json=body).status_code == 201
    for group_id, strategy in (("WEB-SHIP", "priority"), ("WEB-MOST", "most_available")):
        response = api.put(
            f"{V1}/location-groups/{group_id}",
            json={"members": ["S1", "S2", "S3"], "sourcing_strategy": strategy, "channel": "web"},
        )
        assert response.status_code == 201
    return api
