"""What the channel experience API tests (web, store, call centre) share: an in-process inventory
process API with the demo network, stock put into it as canonical events, reservations made through
it, channel credentials, problem assertions (the fixtures over them: tests/experience_apis/conftest.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from gateway import demo_data
from process_apis.inventory.app import create_app as create_process_app
from shared.auth import CredentialStore
from shared.errors import PROBLEM_CONTENT_TYPE, problem_type
from tests.support.auth import keyed_client

#: A SKU the demo data leaves alone, so each test states its own stock.
SKU = "MAT-9001"
#: The abuse limits the tests run with (Settings.max_units_per_line, .max_lines_per_reservation).
MAX_UNITS_PER_LINE = 5
MAX_LINES = 3
#: Settings.order_reservation_ttl_seconds of the call-centre tests.
ORDER_TTL_SECONDS = 3600


def now() -> datetime:
    return datetime.now(UTC)


def process_with_demo(settings, redis, *, with_stock: bool = True):
    """The inventory process API on `redis` with the demo network (DC01, S001–S003) and rules, and
    the demo stock unless `with_stock` is False."""
    app = create_process_app(settings, redis)
    demo_data.load(app.extensions["inventory"], with_stock=with_stock)
    return app


def post_events(process, *events: dict) -> None:
    answer = process.post("/inventory/v1/events", json={"events": list(events)}).get_json()
    assert answer["applied"] == len(events), answer


def count(process, location: str, on_hand: int, *, sku: str = SKU, **other_stock: int) -> None:
    """A stock count (snapshot) half an hour ago: `on_hand` plus e.g. quality_inspection=, blocked=."""
    post_events(
        process,
        {
            "event_id": f"test:count:{sku}:{location}:{uuid.uuid4().hex}",
            "type": "stock.counted",
            "sku": sku,
            "location": location,
            "quantity": on_hand,
            "occurred_at": (now() - timedelta(minutes=30)).isoformat(),
            "source": "test",
            **({"counts": other_stock} if other_stock else {}),
        },
    )


def ship(
    process, from_location: str, to_location: str, quantity: int, *, expected_at: datetime | None, sku: str = SKU
) -> None:
    post_events(
        process,
        {
            "event_id": f"test:ship:{uuid.uuid4().hex}",
            "type": "transfer.shipped",
            "sku": sku,
            "location": from_location,
            "to_location": to_location,
            "quantity": quantity,
            "occurred_at": (now() - timedelta(minutes=10)).isoformat(),
            "source": "test",
            **({"expected_at": expected_at.isoformat()} if expected_at else {}),
        },
    )


def reserve(process, *, channel: str, external_ref: str, lines: list[dict], **extra) -> dict:
    """A reservation made straight at the process API (as another channel would)."""
    response = process.post(
        "/inventory/v1/reservations",
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"channel": channel, "external_ref": external_ref, "lines": lines, **extra},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def availability(process, location: str, channel: str, sku: str = SKU) -> dict:
    """The process API's own view of one position for `channel`."""
    answer = process.get(
        "/inventory/v1/availability", query_string={"sku": sku, "location": location, "channel": channel}
    ).get_json()
    return answer["positions"][0]


def channel_client(app, redis, client_id: str, scopes: list[str], *, store_id: str | None = None, kind="channel"):
    """A test client of `app` calling with a new credential of `kind` holding `scopes`."""
    _, api_key = CredentialStore(redis, cache_seconds=0).create(client_id, kind=kind, scopes=scopes, store_id=store_id)
    return keyed_client(app, api_key)


def documented_operations(app) -> dict[tuple[str, str], dict]:
    """(path, method) -> operation, of every operation in `app`'s OpenAPI document."""
    with app.app_context():
        paths = app.extensions["api"].spec.to_dict()["paths"]
    return {
        (path, method): operation
        for path, item in paths.items()
        for method, operation in item.items()
        if method != "parameters"
    }


def assert_problem(response, status: int, slug: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM_CONTENT_TYPE
    body = response.get_json()
    assert body["status"] == status
    if slug is not None:
        assert body["type"] == problem_type(slug), body
    return body


__all__ = [
    "MAX_LINES",
    "MAX_UNITS_PER_LINE",
    "ORDER_TTL_SECONDS",
    "SKU",
    "assert_problem",
    "availability",
    "channel_client",
    "count",
    "documented_operations",
    "now",
    "post_events",
    "process_with_demo",
    "reserve",
    "ship",
]
