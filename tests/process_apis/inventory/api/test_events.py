"""POST /inventory/v1/events over HTTP (Flask test client) against a real redis-server: an outcome for
every item, bad items dead-lettered alone, bodies that are not a batch refused."""

from __future__ import annotations

import pytest

from tests.process_apis.inventory.support import V1, assert_problem, position, send
from tests.support.inventory import event_json


def test_a_batch_gets_an_outcome_for_every_event(network):
    api = network
    receipt = event_json("r1", "stock.received", quantity=10, ms=1)
    body = send(
        api,
        receipt,
        receipt,
        event_json("c1", "stock.counted", quantity=8, ms=20),
        event_json("i1", "stock.issued", quantity=1, ms=10, reason="sale"),
        {k: v for k, v in event_json("bad", "stock.received").items() if k != "sku"},
        event_json("frac", "stock.received", quantity=2.5),
        event_json("where", "stock.received", location="NOWHERE"),
        "not an event",
    )

    assert {k: body[k] for k in ("received", "applied", "duplicate", "stale", "dead_lettered")} == {
        "received": 8,
        "applied": 2,
        "duplicate": 1,
        "stale": 1,
        "dead_lettered": 4,
    }
    summary = [(i["index"], i["event_id"], i["outcome"], i.get("reason")) for i in body["not_applied"]]
    assert summary == [
        (1, "r1", "duplicate", None),
        (3, "i1", "stale", None),
        (4, "bad", "dead_lettered", "schema_invalid"),
        (5, "frac", "dead_lettered", "non_integer_quantity"),
        (6, "where", "dead_lettered", "unknown_location"),
        (7, None, "dead_lettered", "schema_invalid"),
    ]
    assert position(api)["on_hand"] == 8
    unknown = body["not_applied"][4]
    entry = api.get(f"{V1}/dead-letters/{unknown['dead_letter_id']}").get_json()
    assert (entry["status"], entry["reason"], entry["payload"]) == (
        "open",
        "unknown_location",
        event_json("where", "stock.received", location="NOWHERE"),
    )


def test_a_transfer_to_an_unknown_location_is_dead_lettered(network):
    body = send(network, event_json("t", "transfer.moved", location="S1", to_location="NOWHERE", quantity=1))

    assert body["not_applied"][0]["reason"] == "unknown_location"
    assert position(network)["on_hand"] == 0


@pytest.mark.parametrize(
    "body",
    [[{"event_id": "x"}], {"events": "x"}, {"events": []}, {}, {"batch": []}],
    ids=["a list", "events not a list", "no events", "empty object", "other key"],
)
def test_a_body_that_is_not_a_batch_is_a_422_problem(api, body):
    problem = assert_problem(api.post(f"{V1}/events", json=body), 422)

    assert "json" in problem["errors"]


def test_a_body_that_is_not_json_is_a_400_problem(api):
    assert_problem(api.post(f"{V1}/events", data="{not json", content_type="application/json"), 400)


def test_more_than_1000_events_is_a_422_and_1000_are_accepted(network):
    events = [event_json(f"e{i}", "stock.received", quantity=1, ms=i) for i in range(1001)]

    problem = assert_problem(network.post(f"{V1}/events", json={"events": events}), 422)
    assert "events" in problem["errors"]["json"]
    assert position(network)["on_hand"] == 0

    assert send(network, *events[:1000])["applied"] == 1000
    assert position(network)["on_hand"] == 1000
