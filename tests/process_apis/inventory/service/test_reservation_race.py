"""Reservations racing over real HTTP: many clients, scarce stock, all-or-nothing multi-line requests.

The app runs in a real multi-threaded HTTP server (werkzeug, one thread per connection) against
the real redis-server fixture; 40 clients, each with its own `requests.Session`, fire at once.
Afterwards the ledger must show no oversell, every 201 must be backed by held stock, and every
409 must be a true shortage.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict

import pytest
from werkzeug.serving import make_server

from gateway.settings import Settings
from process_apis.inventory.app import create_app
from tests.support.auth import keyed_session
from tests.support.redis_servers import free_port

TIMEOUT = 10
CLIENTS = 40
REQUESTS_PER_CLIENT = 6
SAFETY_UNITS = 1
SKUS = ("RACE-1", "RACE-2", "RACE-3", "RACE-4")
LOCATIONS = ("L1", "L2")
# Scarce stock: 5-10 units per position, so most of the ~500 units asked for are refused.
STOCK = {(sku, loc): 5 + (n * 3 + m * 2) % 6 for n, sku in enumerate(SKUS) for m, loc in enumerate(LOCATIONS)}


@pytest.fixture
def gateway(redis_url):
    app = create_app(Settings(redis_url=redis_url, log_level="WARNING"))
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="race-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app.extensions["inventory"]
    finally:
        server.shutdown()
        thread.join(timeout=TIMEOUT)
        server.server_close()


def _seed(base: str) -> None:
    with keyed_session() as session:
        for location in LOCATIONS:
            response = session.put(
                f"{base}/inventory/v1/locations/{location}",
                json={"type": "store", "channels": ["web"]},
                timeout=TIMEOUT,
            )
            assert response.status_code == 201, response.text
        response = session.put(
            f"{base}/inventory/v1/rules",
            json={"safety_stock": [{"units": SAFETY_UNITS}]},
            headers={"If-Match": "*"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        events = [
            {
                "event_id": f"race:count:{sku}:{loc}",
                "type": "stock.counted",
                "sku": sku,
                "location": loc,
                "quantity": quantity,
                "occurred_at": "2026-01-01T00:00:00Z",
                "source": "sap",
            }
            for (sku, loc), quantity in STOCK.items()
        ]
        response = session.post(f"{base}/inventory/v1/events", json={"events": events}, timeout=TIMEOUT)
        assert response.status_code == 200 and response.json()["applied"] == len(events), response.text


def _client(base: str, seed: int, start: threading.Barrier, outcomes: list) -> None:
    rnd = random.Random(seed)
    with keyed_session() as session:
        start.wait(timeout=TIMEOUT)
        for n in range(REQUESTS_PER_CLIENT):
            lines = [
                {"sku": sku, "location": rnd.choice(LOCATIONS), "quantity": rnd.randint(1, 3)}
                for sku in rnd.sample(SKUS, rnd.choice((2, 3)))
            ]
            body = {"channel": "web", "external_ref": f"CART-{seed}-{n}", "lines": lines}
            response = session.post(
                f"{base}/inventory/v1/reservations",
                json=body,
                headers={"Idempotency-Key": uuid.uuid4().hex},
                timeout=TIMEOUT,
            )
            outcomes.append((body, response.status_code, response.json()))


def _available_at_end(base: str) -> dict[tuple[str, str], int]:
    response = keyed_session().get(
        f"{base}/inventory/v1/availability",
        timeout=TIMEOUT,
        params={"sku": list(SKUS), "location": list(LOCATIONS), "channel": "web"},
    )
    assert response.status_code == 200, response.text
    return {(p["sku"], p["location"]): p["available_to_sell"] for p in response.json()["positions"]}


def test_racing_all_or_nothing_reservations_never_oversell_and_refuse_only_true_shortages(gateway):
    base, inventory = gateway
    _seed(base)
    outcomes: list = []  # list.append is atomic: threads share it safely
    start = threading.Barrier(CLIENTS)
    threads = [threading.Thread(target=_client, args=(base, seed, start, outcomes)) for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    assert len(outcomes) == CLIENTS * REQUESTS_PER_CLIENT

    statuses = defaultdict(int)
    for _, status, _ in outcomes:
        statuses[status] += 1
    assert set(statuses) <= {201, 409}, dict(statuses)
    assert statuses[201] >= 1 and statuses[409] >= 1, dict(statuses)

    # Every 201 is backed by stock: what the 201s allocated is exactly what the ledger holds.
    allocated: dict[tuple[str, str], int] = defaultdict(int)
    for body, status, reply in outcomes:
        if status != 201:
            continue
        assert reply["status"] == "active" and not reply["shortfalls"], reply
        for requested, line in zip(body["lines"], reply["lines"]):
            assert line["reserved"] == requested["quantity"], reply  # all-or-nothing: every line in full
            assert [a["location"] for a in line["allocations"]] == [requested["location"]], reply
            for allocation in line["allocations"]:
                allocated[(line["sku"], allocation["location"])] += allocation["quantity"]
    positions = {(p.sku, p.location): p for p in inventory.ledger.positions(list(STOCK))}
    for key, position in positions.items():
        assert position.on_hand == STOCK[key], (key, position)
        assert position.reserved <= position.on_hand - SAFETY_UNITS, f"oversold {key}: {position}"
        assert position.reserved == allocated.get(key, 0), (key, position.reserved, allocated.get(key, 0))

    # Every 409 was a true shortage. Stock only went down during the race (nothing expired or
    # was released), so what is available now is at most what was available at refusal time:
    # some line of each refusal must ask for more than that.
    available = _available_at_end(base)
    for key, position in positions.items():
        assert available[key] == max(0, position.on_hand - position.reserved - SAFETY_UNITS), key
    for body, status, reply in outcomes:
        if status != 409:
            continue
        assert reply["type"].endswith("/insufficient-stock"), reply
        shortfalls = reply["shortfalls"]
        assert shortfalls, reply
        for shortfall in shortfalls:
            assert body["lines"][shortfall["line"]]["sku"] == shortfall["sku"], (body, shortfall)
        assert any(
            shortfall["requested"] > available[(shortfall["sku"], shortfall["location"])] for shortfall in shortfalls
        ), (body, reply, available)
