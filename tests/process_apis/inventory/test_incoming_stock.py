"""Incoming stock with ETAs over HTTP against a real redis-server: transfer.shipped may carry
expected_at, else the rules' transit time gives it; receipts take the oldest shipments first, a
count of in_transit resets what is on the way, and arrival order changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from process_apis.inventory.adapters.keys import Keys
from process_apis.inventory.adapters.ledger import LedgerStore
from process_apis.inventory.adapters.replay import replay
from process_apis.inventory.api.availability import plain
from process_apis.inventory.api.availability_schemas import AvailabilitySchema
from process_apis.inventory.service.availability import query
from tests.process_apis.inventory.support import V1, assert_problem, availability, put_rules, send
from tests.support.inventory import at, event_json

HOUR_MS = 3_600_000


def shipped(event_id, quantity, ms, **extra):
    return event_json(event_id, "transfer.shipped", location="D1", to_location="S1", quantity=quantity, ms=ms, **extra)


def received(event_id, quantity, ms):
    return event_json(event_id, "transfer.received", location="S1", quantity=quantity, ms=ms)


def counted_in_transit(event_id, in_transit, ms, on_hand=0):
    return event_json(
        event_id, "stock.counted", location="S1", quantity=on_hand, ms=ms, counts={"in_transit": in_transit}
    )


def incoming_at_s1(api, sku="MAT-1") -> list[tuple]:
    [found] = availability(api, sku=sku, location="S1", include="incoming")["positions"]
    return [
        (item["quantity"], item["expected_at"], item["from_location"], item["reference"]) for item in found["incoming"]
    ]


def iso(ms: int) -> str:
    return at(ms).isoformat()


def test_a_shipment_is_listed_with_the_eta_its_source_gave(network):
    send(network, shipped("ship-1", 5, 1000, reference="TO-1", expected_at=iso(30 * HOUR_MS)))

    assert incoming_at_s1(network) == [(5, iso(30 * HOUR_MS), "D1", "TO-1")]


def test_incoming_is_listed_only_when_asked_for(network):
    send(network, shipped("ship-1", 5, 1000))

    [found] = availability(network, sku="MAT-1", location="S1")["positions"]

    assert found["in_transit"] == 5 and "incoming" not in found


def test_without_an_eta_the_rules_transit_time_gives_it_and_without_a_rule_it_is_unknown(network):
    send(network, shipped("ship-1", 5, 1000))
    assert incoming_at_s1(network) == [(5, None, "D1", None)]

    put_rules(
        network,
        {"transit_times": [{"hours": 72}, {"from_location_type": "dc", "to_location_type": "store", "hours": 48}]},
    )

    assert incoming_at_s1(network) == [(5, iso(1000 + 48 * HOUR_MS), "D1", None)]


def test_receipts_take_the_oldest_shipments_first(network):
    send(
        network,
        shipped("ship-a", 5, 1000, expected_at=iso(10 * HOUR_MS)),
        shipped("ship-b", 3, 2000, expected_at=iso(20 * HOUR_MS)),
        received("recv-1", 4, 3000),
    )

    assert incoming_at_s1(network) == [(1, iso(10 * HOUR_MS), "D1", None), (3, iso(20 * HOUR_MS), "D1", None)]

    send(network, received("recv-2", 2, 4000))
    assert incoming_at_s1(network) == [(2, iso(20 * HOUR_MS), "D1", None)]


def test_a_count_of_in_transit_resets_what_is_on_the_way(network):
    send(
        network,
        shipped("ship-a", 5, 1000, expected_at=iso(10 * HOUR_MS)),
        shipped("ship-b", 3, 2000, expected_at=iso(20 * HOUR_MS)),
    )

    send(network, counted_in_transit("count-1", 2, 3000))
    assert incoming_at_s1(network) == [(2, iso(20 * HOUR_MS), "D1", None)]

    # A later count saying more is in transit than the shipments on record explain.
    send(network, counted_in_transit("count-2", 10, 4000))
    assert incoming_at_s1(network) == [
        (5, iso(10 * HOUR_MS), "D1", None),
        (3, iso(20 * HOUR_MS), "D1", None),
        (2, None, None, None),
    ]


def test_a_shipment_older_than_the_count_is_inside_it_and_adds_nothing(network):
    send(network, counted_in_transit("count", 0, 5000))

    body = send(network, shipped("late-ship", 4, 1000, expected_at=iso(10 * HOUR_MS)))

    assert body["stale"] == 0 and body["applied"] == 1  # its on_hand leg at D1 still applies
    assert incoming_at_s1(network) == []


def test_arrival_order_does_not_change_what_is_on_the_way(network):
    events = [
        shipped("ship-a", 5, 1000, expected_at=iso(10 * HOUR_MS)),
        shipped("ship-b", 3, 2000, expected_at=iso(20 * HOUR_MS)),
        counted_in_transit("count", 3, 2500),
        received("recv", 1, 3000),
    ]
    send(network, *events)
    # The same events for another SKU, one at a time, in the opposite order.
    for item in reversed(events):
        send(network, {**item, "sku": "MAT-2", "event_id": item["event_id"] + "-2"})

    assert incoming_at_s1(network) == incoming_at_s1(network, "MAT-2") == [(2, iso(20 * HOUR_MS), "D1", None)]


def test_incoming_at_group_members_is_listed_per_member(network):
    network.put(f"{V1}/location-groups/STORES", json={"members": ["S1", "S2"]})
    send(network, shipped("ship-1", 5, 1000, expected_at=iso(10 * HOUR_MS)))

    [group] = availability(network, sku="MAT-1", location_group="STORES", include="incoming")["groups"]

    assert {member["location"]: len(member["incoming"]) for member in group["locations"]} == {"S1": 1, "S2": 0}


def test_availability_with_incoming_has_exactly_its_documented_shape(app, network):
    send(network, shipped("ship-1", 5, 1000, expected_at=iso(10 * HOUR_MS)))
    with app.app_context():
        result = query(
            app.extensions["inventory"],
            skus=["MAT-1"],
            locations=["S1"],
            location_group=None,
            channel=None,
            include_incoming=True,
        )

    body = plain(result)

    documented = AvailabilitySchema().dump(
        {
            **result,
            "positions": [
                {**vars(p), "incoming": result["incoming"][(p.sku, p.location)]} for p in result["positions"]
            ],
        }
    )
    assert body == documented and body["positions"][0]["incoming"]


def test_replay_rebuilds_the_shipments_with_their_etas(app, network):
    send(
        network, shipped("ship-1", 5, 1000, reference="TO-1", expected_at=iso(10 * HOUR_MS)), shipped("ship-2", 2, 2000)
    )
    source = app.extensions["inventory"].ledger
    target = LedgerStore(app.extensions["redis"], keys=Keys("rebuilt"), policy=source.policy)

    replay(source, target, ["MAT-1"])

    assert target.shipments([("MAT-1", "S1")]) == source.shipments([("MAT-1", "S1")])
    assert len(source.shipments([("MAT-1", "S1")])[0]) == 2


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        shipped("bad-eta", 1, 1000, expected_at="next week"),
        shipped("naive-eta", 1, 1000, expected_at="2026-01-02T10:00:00"),
        event_json("eta-on-receipt", "stock.received", location="S1", quantity=1, expected_at=iso(HOUR_MS)),
    ],
    ids=["not a datetime", "no time zone", "not a shipment"],
)
def test_a_bad_expected_at_dead_letters_the_event(network, event):
    body = send(network, event)

    [item] = body["not_applied"]
    assert (item["outcome"], item["reason"]) == ("dead_lettered", "schema_invalid")
    assert "expected_at" in str(item["detail"])


def test_an_unknown_include_is_a_422(network):
    assert_problem(network.get(f"{V1}/availability", query_string={"sku": "MAT-1", "include": "everything"}), 422)


@pytest.mark.parametrize(
    "transit_times",
    [
        [{"hours": 0}],
        [{"from_location_type": "moon", "hours": 1}],
        [{"to_location_type": "store", "hours": 1}, {"to_location_type": "store", "hours": 2}],
    ],
    ids=["no time", "unknown type", "two rules for one pair"],
)
def test_a_bad_transit_time_rule_is_a_422(network, transit_times):
    assert_problem(put_rules(network, {"transit_times": transit_times}), 422)
    assert network.get(f"{V1}/rules").get_json()["version"] == 0


def test_the_eta_counts_from_when_it_was_shipped(network):
    put_rules(network, {"transit_times": [{"to_location_type": "store", "hours": 1.5}]})
    send(network, shipped("ship-1", 1, 7 * HOUR_MS))

    [(_, expected_at, _, _)] = incoming_at_s1(network)

    assert datetime.fromisoformat(expected_at) - at(7 * HOUR_MS) == timedelta(hours=1.5)
