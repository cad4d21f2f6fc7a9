"""The web experience API wired all-in-one for tests: the inventory process API (demo network and rules
loaded) as an in-process WSGI app, the web API calling it, both on a real redis-server (the session's,
emptied per test), and web-shop credentials to call with.

Demo rules that the expectations below rest on: safety stock 1 unit (5 % at the DC), 2 units of S001
ring-fenced for the store channel, low stock at 3 units or fewer, the web may sell incoming stock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from experience_apis.web.app import create_app
from process_apis.inventory.service.ingest import ingest
from shared.redis import create_redis
from tests.support.auth import service_client
from tests.support.experience import channel_client, process_with_demo

WEB_CLIENT = "web-shop"


@dataclass
class WebRig:
    app: Any
    process_app: Any
    redis: Any
    client: FlaskClient  # as the web shop (kind channel, scope web)

    @property
    def settings(self):
        return self.app.extensions["settings"]

    @property
    def inventory(self):
        """The process API's wired inventory (to stock it and run its sweeper)."""
        return self.process_app.extensions["inventory"]

    @property
    def process(self) -> FlaskClient:
        """The process API, called as a tier service account (to look behind the web API)."""
        return service_client(self.process_app)

    def channel_client(self, client_id: str, scopes: list[str], store_id: str | None = None) -> FlaskClient:
        return channel_client(self.app, self.redis, client_id, scopes, store_id=store_id)

    def stock(self, *events: dict) -> None:
        outcome = ingest(self.inventory, list(events))
        assert outcome["applied"] == len(events), outcome

    def count(self, sku: str, location: str, quantity: int, *, minutes_ago: int = 2) -> None:
        """SAP's count of `sku` at `location`: on hand becomes `quantity`."""
        self.stock(event("stock.counted", sku, location, quantity, minutes_ago=minutes_ago))

    def reservations(self, external_ref: str, status: str = "active") -> list[dict]:
        answer = self.process.get(
            "/inventory/v1/reservations", query_string={"external_ref": external_ref, "status": status}
        )
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()["items"]


def event(kind: str, sku: str, location: str, quantity: int, *, minutes_ago: int = 1, **extra) -> dict:
    when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {
        "event_id": f"test:{kind}:{sku}:{location}:{minutes_ago}",
        "type": kind,
        "sku": sku,
        "location": location,
        "quantity": quantity,
        "occurred_at": when.isoformat(),
        "source": "sap",
        **extra,
    }


@pytest.fixture
def build(redis_url, settings_for) -> Callable[..., WebRig]:
    """`build(**settings overrides)` → a fresh WebRig on this test's Redis."""
    clients = []

    def make(**overrides) -> WebRig:
        # every read asks the process API unless a test turns the answer cache on
        settings = settings_for(redis_url, **{"web_availability_cache_seconds": 0, **overrides})
        redis = create_redis(settings)
        clients.append(redis)
        process_app = process_with_demo(settings, redis, with_stock=False)
        app = create_app(settings, process_app=process_app, redis=redis)
        rig = WebRig(app=app, process_app=process_app, redis=redis, client=None)
        rig.client = rig.channel_client(WEB_CLIENT, ["web"])
        return rig

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def rig(build) -> WebRig:
    return build()
