"""GET /inventory/v1/availability over HTTP against a real redis-server: positions, groups, the
locations holding a SKU, and the body exactly as its documented schema."""

from __future__ import annotations

import pytest

from tests.process_apis.inventory.support import V1, assert_problem, availability, position, put_rules, receive, send
from tests.support.inventory import event_json


def test_availability_at_a_location_reports_every_quantity(network):
    receive(network, 10)
    receive(network, 2, stock_type="blocked")
    send(network, event_json("ret", "stock.returned", quantity=1, ms=10**6))

    found = position(network, channel="web")

    assert {
        k: found[k]
        for k in (
            "sku",
            "location",
            "channel",
            "on_hand",
            "reserved",
            "quality_inspection",
            "blocked",
            "in_transit",
            "available_to_sell",
            "status",
            "negative",
        )
    } == {
        "sku": "MAT-1",
        "location": "S1",
        "channel": "web",
        "on_hand": 10,
        "reserved": 0,
        "quality_inspection": 1,
        "blocked": 2,
        "in_transit": 0,
        "available_to_sell": 10,
        "status": "in_stock",
        "negative": False,
    }


@pytest.mark.parametrize("group", ["WEB-SHIP", "WEB-MOST"])
def test_group_availability_sums_the_members_serving_the_channel(network, group):
    receive(network, 4, location="S1")
    receive(network, 6, location="S2")
    receive(network, 100, location="S3")  # store channel only

    body = availability(network, sku="MAT-1", location_group=group, channel="web")

    [found] = body["groups"]
    assert body["positions"] == []
    assert [loc["location"] for loc in found["locations"]] == ["S1", "S2"]
    assert (found["location_group"], found["on_hand"], found["available_to_sell"]) == (group, 10, 10)


def test_a_group_fence_for_another_channel_comes_off_the_group_total(network):
    receive(network, 4, location="S1")
    receive(network, 6, location="S2")
    put_rules(network, {"allocations": [{"channel": "store", "location_group": "WEB-SHIP", "units": 3}]})

    [found] = availability(network, sku="MAT-1", location_group="WEB-SHIP", channel="web")["groups"]

    assert (found["available_to_sell"], found["allocated"]) == (7, 3)


def test_a_location_not_serving_the_channel_has_nothing_sellable_for_it(network):
    """As a reservation for that channel there is refused (422), its read answers 0 sellable; the stock is
    still shown, and a channel the location serves (or no channel) still sees it sellable."""
    receive(network, 50, location="S3")  # serves only the store channel

    for_web = position(network, location="S3", channel="web")
    for_store = position(network, location="S3", channel="store")
    for_anyone = position(network, location="S3")

    assert (for_web["on_hand"], for_web["available_to_sell"], for_web["available_to_order"]) == (50, 0, 0)
    assert for_web["status"] == "out_of_stock"
    assert (for_store["available_to_sell"], for_anyone["available_to_sell"]) == (50, 50)
    listed = availability(network, sku="MAT-1", channel="web")["positions"]
    assert [(p["location"], p["available_to_sell"]) for p in listed] == [("S3", 0)]


def test_without_a_location_every_location_holding_the_sku_is_listed(network):
    receive(network, 4, location="S2")
    receive(network, 1, location="S1")
    receive(network, 9, location="S1", sku="MAT-2")

    body = availability(network, sku=["MAT-1", "MAT-2", "MAT-3"])

    assert [(p["sku"], p["location"], p["on_hand"]) for p in body["positions"]] == [
        ("MAT-1", "S1", 1),
        ("MAT-1", "S2", 4),
        ("MAT-2", "S1", 9),
    ]


@pytest.mark.parametrize(
    "params", [{"sku": "MAT-1", "location": "NOWHERE"}, {"sku": "MAT-1", "location_group": "NOWHERE"}]
)
def test_availability_at_an_unknown_place_is_a_404(network, params):
    assert_problem(network.get(f"{V1}/availability", query_string=params), 404)


@pytest.mark.parametrize("params", [{"location": "S1"}, {"location_group": "WEB-SHIP", "channel": "web"}, {}])
def test_availability_is_serialised_exactly_as_its_documented_schema(app, network, params):
    from process_apis.inventory.api.availability import plain
    from process_apis.inventory.api.availability_schemas import AvailabilitySchema
    from process_apis.inventory.service.availability import query

    receive(network, 7, location="S1")
    receive(network, 3, location="S2")
    with app.app_context():
        result = query(
            app.extensions["inventory"],
            skus=["MAT-1"],
            locations=[params["location"]] if "location" in params else [],
            location_group=params.get("location_group"),
            channel=params.get("channel"),
        )
    assert plain(result) == AvailabilitySchema().dump(result)
    assert plain(result)["positions"] or plain(result)["groups"]
