"""Reservations over HTTP against a real redis-server: hold, idempotent retry, shortfalls, release,
extend, fulfil, expiry, and the body exactly as its documented schema."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from process_apis.inventory.service.reservations import expire_due
from tests.process_apis.inventory.support import (
    V1,
    assert_problem,
    availability,
    position,
    put_rules,
    receive,
    reserve,
    send,
)
from tests.support.inventory import event_json


def test_a_reservation_holds_stock_and_is_readable(network):
    receive(network, 10)

    response = reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 3})

    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/reservations/{body['id']}")
    assert (body["status"], body["shortfalls"]) == ("active", [])
    assert body["lines"][0]["allocations"] == [{"location": "S1", "quantity": 3}]
    assert position(network)["reserved"] == 3
    assert network.get(f"{V1}/reservations/{body['id']}").get_json()["status"] == "active"


def test_a_reservation_needs_an_idempotency_key(network):
    receive(network, 10)
    response = network.post(
        f"{V1}/reservations",
        json={"channel": "web", "external_ref": "X", "lines": [{"sku": "MAT-1", "location": "S1", "quantity": 1}]},
    )

    assert_problem(response, 400)
    assert position(network)["reserved"] == 0


def test_a_retry_with_the_same_key_replays_the_reservation_and_holds_once(network):
    receive(network, 10)
    line = {"sku": "MAT-1", "location": "S1", "quantity": 3}

    first = reserve(network, line, key="cart-42")
    retry = reserve(network, line, key="cart-42")

    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert position(network)["reserved"] == 3


def test_the_same_key_with_another_body_is_a_422(network):
    receive(network, 10)
    reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 3}, key="cart-42")

    assert_problem(reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 4}, key="cart-42"), 422)
    assert position(network)["reserved"] == 3


def test_short_stock_is_a_409_with_shortfalls_and_holds_nothing(network):
    receive(network, 5, sku="MAT-1")
    receive(network, 2, sku="MAT-2")

    response = reserve(
        network, {"sku": "MAT-1", "location": "S1", "quantity": 3}, {"sku": "MAT-2", "location": "S1", "quantity": 4}
    )

    problem = assert_problem(response, 409)
    assert problem["shortfalls"] == [
        {"line": 1, "sku": "MAT-2", "location": "S1", "location_group": None, "requested": 4, "available": 2}
    ]
    assert position(network, sku="MAT-1")["reserved"] == 0 and position(network, sku="MAT-2")["reserved"] == 0


def test_allow_partial_reserves_what_there_is_and_reports_the_shortfall(network):
    receive(network, 2)

    response = reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 5}, allow_partial=True)

    assert response.status_code == 201
    body = response.get_json()
    assert body["lines"][0]["reserved"] == 2
    assert body["shortfalls"] == [
        {"line": 0, "sku": "MAT-1", "location": "S1", "location_group": None, "requested": 5, "available": 2}
    ]


def test_a_location_that_does_not_serve_the_channel_cannot_be_reserved_for_it(network):
    receive(network, 10, location="S3")

    assert_problem(reserve(network, {"sku": "MAT-1", "location": "S3", "quantity": 1}), 422)


def test_a_group_for_another_channel_cannot_be_reserved_from(network):
    receive(network, 10, location="S1")

    problem = assert_problem(
        reserve(network, {"sku": "MAT-1", "location_group": "WEB-SHIP", "quantity": 1}, channel="store"), 422
    )
    assert "for channel web" in problem["detail"]
    assert position(network, "S1")["reserved"] == 0


@pytest.mark.parametrize(
    ("group", "allocations"),
    [
        ("WEB-SHIP", [{"location": "S1", "quantity": 3}, {"location": "S2", "quantity": 3}]),
        ("WEB-MOST", [{"location": "S2", "quantity": 5}, {"location": "S1", "quantity": 1}]),
    ],
)
def test_a_group_line_is_split_across_members(network, group, allocations):
    receive(network, 3, location="S1")
    receive(network, 5, location="S2")
    receive(network, 50, location="S3")  # serves only the store channel

    response = reserve(network, {"sku": "MAT-1", "location_group": group, "quantity": 6})

    assert response.status_code == 201
    assert response.get_json()["lines"][0]["allocations"] == allocations


@pytest.mark.parametrize(
    ("channel", "scope"),
    [
        ("web", {"location": "S1"}),
        ("store", {"location": "S1"}),
        ("web", {"location": "S2"}),
        ("web", {"location_group": "WEB-SHIP"}),
        ("web", {"location_group": "WEB-MOST"}),
    ],
)
def test_what_availability_offers_is_exactly_what_a_reservation_can_take(network, channel, scope):
    receive(network, 20, location="S1")
    receive(network, 7, location="S2")
    put_rules(
        network,
        {
            "safety_stock": [{"percent": 15}, {"location": "S2", "units": 1}],
            "allocations": [
                {"channel": "store", "location": "S1", "units": 3},
                {"channel": "call_centre", "location": "S1", "units": 2},
                {"channel": "store", "location_group": "WEB-SHIP", "units": 4},
            ],
        },
    )
    # The store channel has used part of its ring-fence at S1 already.
    assert reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 2}, channel="store").status_code == 201

    body = availability(network, sku="MAT-1", channel=channel, **scope)
    offered = (body["groups"] or body["positions"])[0]["available_to_sell"]
    line = {"sku": "MAT-1", **scope}

    too_many = assert_problem(reserve(network, {**line, "quantity": offered + 1}, channel=channel), 409)
    assert too_many["shortfalls"][0]["available"] == offered
    assert reserve(network, {**line, "quantity": offered}, channel=channel).status_code == 201


@pytest.fixture
def reservation(network):
    """An active web reservation of 3 units at S1 and 2 at S2, external_ref ORDER-1."""
    receive(network, 10, location="S1")
    receive(network, 10, location="S2")
    response = reserve(
        network, {"sku": "MAT-1", "location": "S1", "quantity": 3}, {"sku": "MAT-1", "location": "S2", "quantity": 2}
    )
    assert response.status_code == 201
    return response.get_json()


def test_releasing_a_reservation_gives_every_unit_back(network, reservation):
    response = network.post(f"{V1}/reservations/{reservation['id']}/release", json={})

    assert response.status_code == 200 and response.get_json()["status"] == "released"
    assert position(network, "S1")["reserved"] == 0 and position(network, "S2")["reserved"] == 0
    assert_problem(network.post(f"{V1}/reservations/{reservation['id']}/release", json={}), 409)


def test_releasing_some_units_keeps_the_rest_held(network, reservation):
    response = network.post(
        f"{V1}/reservations/{reservation['id']}/release",
        json={"lines": [{"sku": "MAT-1", "location": "S1", "quantity": 1}]},
    )

    body = response.get_json()
    assert (response.status_code, body["status"]) == (200, "active")
    assert [line["reserved"] for line in body["lines"]] == [2, 2]
    assert (position(network, "S1")["reserved"], position(network, "S2")["reserved"]) == (2, 2)


def test_releasing_the_last_units_releases_the_reservation(network, reservation):
    response = network.post(
        f"{V1}/reservations/{reservation['id']}/release",
        json={
            "lines": [
                {"sku": "MAT-1", "location": "S1", "quantity": 3},
                {"sku": "MAT-1", "location": "S2", "quantity": 2},
            ]
        },
    )

    assert response.get_json()["status"] == "released"
    assert network.get(f"{V1}/reservations/{reservation['id']}").get_json()["status"] == "released"


def test_a_release_line_without_a_quantity_releases_all_of_that_line(network, reservation):
    response = network.post(
        f"{V1}/reservations/{reservation['id']}/release", json={"lines": [{"sku": "MAT-1", "location": "S1"}]}
    )

    assert response.status_code == 200
    assert (position(network, "S1")["reserved"], position(network, "S2")["reserved"]) == (0, 2)


def test_extending_a_reservation_moves_its_expiry(network, reservation):
    response = network.post(f"{V1}/reservations/{reservation['id']}/extend", json={"ttl_seconds": 3600})

    assert response.status_code == 200
    expires_at = datetime.fromisoformat(response.get_json()["expires_at"])
    assert timedelta(minutes=59) < expires_at - datetime.now(UTC) <= timedelta(hours=1)


@pytest.mark.parametrize("ttl_seconds", [14401, 0])
def test_extending_beyond_the_limits_is_a_422(network, reservation, ttl_seconds):
    response = network.post(f"{V1}/reservations/{reservation['id']}/extend", json={"ttl_seconds": ttl_seconds})

    assert_problem(response, 422)
    assert network.get(f"{V1}/reservations/{reservation['id']}").get_json()["expires_at"] == reservation["expires_at"]


def test_a_ttl_above_the_maximum_is_refused_at_creation(network):
    receive(network, 10)

    assert_problem(reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 1}, ttl_seconds=14401), 422)
    assert position(network)["reserved"] == 0


def test_a_fulfilled_reservation_holds_until_the_goods_issue_consumes_it(network, reservation):
    fulfilled = network.post(f"{V1}/reservations/{reservation['id']}/fulfil")
    assert fulfilled.status_code == 200 and fulfilled.get_json()["status"] == "fulfilled"
    assert fulfilled.get_json()["expires_at"] is None
    assert position(network, "S1")["reserved"] == 3

    now = datetime.now(UTC)
    send(
        network,
        event_json(
            "gi-1", "stock.issued", location="S1", quantity=3, reference="ORDER-1", reason="sale", occurred_at=now
        ),
    )
    assert (position(network, "S1")["reserved"], position(network, "S1")["on_hand"]) == (0, 7)
    assert network.get(f"{V1}/reservations/{reservation['id']}").get_json()["status"] == "fulfilled"

    send(
        network,
        event_json(
            "gi-2", "stock.issued", location="S2", quantity=2, reference="ORDER-1", reason="sale", occurred_at=now
        ),
    )
    assert position(network, "S2")["reserved"] == 0
    assert network.get(f"{V1}/reservations/{reservation['id']}").get_json()["status"] == "consumed"


def test_a_goods_issue_that_arrives_before_fulfil_still_ends_the_hold(network, reservation):
    now = datetime.now(UTC)
    send(
        network,
        event_json(
            "gi-early", "stock.issued", location="S1", quantity=3, reference="ORDER-1", reason="sale", occurred_at=now
        ),
    )

    network.post(f"{V1}/reservations/{reservation['id']}/fulfil")

    assert (position(network, "S1")["on_hand"], position(network, "S1")["reserved"]) == (7, 0)


def test_a_fulfilled_reservation_can_no_longer_be_released(network, reservation):
    network.post(f"{V1}/reservations/{reservation['id']}/fulfil")

    assert_problem(network.post(f"{V1}/reservations/{reservation['id']}/release", json={}), 409)
    assert position(network, "S1")["reserved"] == 3


def test_an_expired_reservation_is_released_by_the_sweep(app, network):
    receive(network, 10)
    response = reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 4}, ttl_seconds=1)
    body = response.get_json()
    assert expire_due(app.extensions["inventory"]) == 0  # not due yet

    # Waiting for the wall clock to pass expires_at, not for anything to settle.
    time.sleep(max(0.0, (datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)).total_seconds()) + 0.05)

    assert expire_due(app.extensions["inventory"]) == 1
    assert position(network)["reserved"] == 0
    assert network.get(f"{V1}/reservations/{body['id']}").get_json()["status"] == "expired"
    assert expire_due(app.extensions["inventory"]) == 0


def test_an_unknown_reservation_is_a_404(network):
    assert_problem(network.get(f"{V1}/reservations/nope"), 404)
    assert_problem(network.post(f"{V1}/reservations/nope/fulfil"), 404)


def test_a_created_reservation_is_serialised_exactly_as_its_documented_schema(network):
    from process_apis.inventory.api.reservations_schemas import ReservationSchema

    receive(network, 10, location="S1")
    receive(network, 1, location="S2")
    response = reserve(network, {"sku": "MAT-1", "location_group": "WEB-SHIP", "quantity": 12}, allow_partial=True)

    assert response.status_code == 201
    body = response.get_json()
    assert body["shortfalls"] and body["lines"][0]["allocations"]
    assert body == ReservationSchema().dump(body)
    assert "skus" not in body
