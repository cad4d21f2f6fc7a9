"""The pickups of a store: active reservations holding stock there, each with only what is held
there, newest first, paged with the process API's cursor passed through."""

from __future__ import annotations

import pytest

from tests.support.experience import SKU, assert_problem, count, reserve

PICKUPS = "/store/v1/stores/S001/pickups"
OTHER_SKU = "MAT-9002"


@pytest.fixture
def reservations(process):
    """Three reservations holding stock at S001 (oldest first), one only at S002, one released."""
    for location in ("S001", "S002"):
        count(process, location, 10)
        count(process, location, 10, sku=OTHER_SKU)
    made = [
        reserve(process, channel="web", external_ref="CART-1", lines=[{"sku": SKU, "location": "S001", "quantity": 1}]),
        reserve(
            process,
            channel="call_centre",
            external_ref="CASE-7",
            note="collects Saturday",
            lines=[
                {"sku": SKU, "location": "S001", "quantity": 2},
                {"sku": OTHER_SKU, "location": "S002", "quantity": 1},
            ],
        ),
        reserve(
            process, channel="web", external_ref="CART-3", lines=[{"sku": OTHER_SKU, "location": "S001", "quantity": 3}]
        ),
    ]
    reserve(process, channel="web", external_ref="CART-S002", lines=[{"sku": SKU, "location": "S002", "quantity": 1}])
    released = reserve(
        process, channel="web", external_ref="CART-GONE", lines=[{"sku": SKU, "location": "S001", "quantity": 1}]
    )
    assert process.post(f"/inventory/v1/reservations/{released['id']}/release", json={}).status_code == 200
    return made


def test_pickups_lists_active_reservations_held_at_this_store_with_only_its_lines(s001, reservations):
    response = s001.get(PICKUPS)

    assert response.status_code == 200
    page = response.get_json()
    assert page["next"] is None
    assert [item["reservation_id"] for item in page["items"]] == [r["id"] for r in reversed(reservations)]
    case = page["items"][1]
    assert (case["channel"], case["external_ref"], case["note"]) == ("call_centre", "CASE-7", "collects Saturday")
    assert case["lines"] == [{"sku": SKU, "quantity": 2}]  # not the line held at S002


def test_pickups_page_with_the_cursor_passed_through(s001, reservations):
    first = s001.get(PICKUPS, query_string={"limit": 2}).get_json()
    second = s001.get(PICKUPS, query_string={"limit": 2, "after": first["next"]}).get_json()

    assert len(first["items"]) == 2 and first["next"]
    assert [item["reservation_id"] for item in first["items"] + second["items"]] == [
        r["id"] for r in reversed(reservations)
    ]
    assert second["next"] is None


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"after": "not a cursor"}, {"status": "released"}])
def test_pickups_refuse_bad_or_unknown_parameters(s001, query):
    assert_problem(s001.get(PICKUPS, query_string=query), 422)
