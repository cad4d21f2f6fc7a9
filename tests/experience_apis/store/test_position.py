"""A store's full position of a SKU, and what nearby stores could sell of it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support.experience import SKU, assert_problem, availability, count, now, reserve, ship

POSITION = f"/store/v1/stores/S001/products/{SKU}"
NEARBY = f"{POSITION}/nearby"


@pytest.fixture
def stocked(process):
    """MAT-9001 at S001: 10 on hand, 3 in inspection, 2 blocked, 4 on their way from DC01 (ETA in two
    days), 2 held by a web click-and-collect reservation. S002: 5, S003: 8 on hand."""
    count(process, "S001", 10, quality_inspection=3, blocked=2)
    count(process, "DC01", 20)
    count(process, "S002", 5)
    count(process, "S003", 8)
    eta = (now() + timedelta(days=2)).replace(microsecond=0)
    ship(process, "DC01", "S001", 4, expected_at=eta)
    reserve(process, channel="web", external_ref="CART-1", lines=[{"sku": SKU, "location": "S001", "quantity": 2}])
    return eta


def test_position_shows_every_stock_type_and_incoming_transfers_with_eta(s001, process, stocked):
    response = s001.get(POSITION)

    assert response.status_code == 200
    position = response.get_json()
    assert {
        key: position[key]
        for key in ("store_id", "sku", "on_hand", "reserved_for_pickups", "in_inspection", "blocked", "in_transit")
    } == {
        "store_id": "S001",
        "sku": SKU,
        "on_hand": 10,
        "reserved_for_pickups": 2,
        "in_inspection": 3,
        "blocked": 2,
        "in_transit": 4,
    }
    # Sellable is the store channel's available_to_sell: 10 on hand - 2 reserved - 1 safety stock.
    assert position["sellable"] == availability(process, "S001", "store")["available_to_sell"] == 7
    assert position["safety_stock"] == 1
    [incoming] = position["incoming"]
    assert incoming["quantity"] == 4 and incoming["from_location"] == "DC01"
    assert datetime.fromisoformat(incoming["expected_at"]) == stocked


def test_position_of_a_sku_the_store_never_held_is_all_zero(s001):
    position = s001.get("/store/v1/stores/S001/products/MAT-0000").get_json()

    assert (position["on_hand"], position["sellable"], position["in_inspection"], position["incoming"]) == (0, 0, 0, [])


def test_nearby_lists_other_stores_nearest_first_with_only_their_sellable_quantity(s001, process, stocked):
    response = s001.get(NEARBY)

    assert response.status_code == 200
    stores = response.get_json()["stores"]
    assert [store["store_id"] for store in stores] == ["S002", "S003"]  # not S001 itself, not the DC
    assert all(set(store) == {"store_id", "name", "distance_km", "sellable"} for store in stores)
    assert stores[0]["name"] == "Berlin Kreuzberg"
    assert stores[0]["distance_km"] == pytest.approx(4.3, abs=0.2)
    assert stores[1]["distance_km"] == pytest.approx(257, abs=5)
    assert (
        [store["sellable"] for store in stores]
        == [
            availability(process, "S002", "store")["available_to_sell"],
            availability(process, "S003", "store")["available_to_sell"],
        ]
        == [4, 7]
    )


def test_nearby_is_bounded_by_limit_and_puts_stores_without_coordinates_last(s001, process, stocked):
    put = process.put("/inventory/v1/locations/S009", json={"type": "store", "name": "Pop-up", "channels": ["store"]})
    assert put.status_code == 201
    put = process.put(
        "/inventory/v1/locations/S008",
        json={"type": "store", "name": "Web only", "latitude": 52.5, "longitude": 13.4, "channels": ["web"]},
    )
    assert put.status_code == 201

    every = s001.get(NEARBY, query_string={"limit": 50}).get_json()["stores"]
    nearest = s001.get(NEARBY, query_string={"limit": 1}).get_json()["stores"]

    # S008 does not sell to store customers; S009 has no coordinates, so no distance.
    assert [(store["store_id"], store["distance_km"] is None) for store in every] == [
        ("S002", False),
        ("S003", False),
        ("S009", True),
    ]
    assert [store["store_id"] for store in nearest] == ["S002"]
    assert_problem(s001.get(NEARBY, query_string={"limit": 51}), 422)
    assert_problem(s001.get(NEARBY, query_string={"radius": 5}), 422)  # unknown parameters are refused
