"""POST /inventory/v1/events over HTTP (Flask test client) against a real redis-server: an outcome for
every item, bad items dead-lettered alone, bodies that are not a batch refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from gateway.settings import Settings
from process_apis.inventory.app import create_app
from shared.redis import create_redis
from tests.process_apis.inventory.support import V1, assert_problem, position, send
from tests.support.auth import service_client
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


def _batch(api, *items: str):
    """POST /events with items given as JSON text (to carry escapes a dict cannot: a lone surrogate)."""
    return api.post(f"{V1}/events", data='{"events": [' + ", ".join(items) + "]}", content_type="application/json")


def test_text_no_utf8_holds_dead_letters_its_item_alone_and_the_batch_can_be_sent_again(network):
    api = network
    good = json.dumps(event_json("s-good", "stock.received", quantity=4, ms=1))
    bad = json.dumps(event_json("s-bad", "stock.received", quantity=4, ms=2)).replace('"s-bad"', '"s-bad-\\ud800"')
    for attempt in range(2):  # the sender's retry of the same batch gets answers too, never a 500
        answer = _batch(api, good, bad)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        assert (body["applied"], body["duplicate"]) == ((1, 0) if attempt == 0 else (0, 1))
        [rejected] = [item for item in body["not_applied"] if item["outcome"] == "dead_lettered"]
        assert rejected["index"] == 1 and "event_id" in rejected["detail"]
    assert position(api)["on_hand"] == 4
    assert api.get(f"{V1}/dead-letters/{rejected['dead_letter_id']}").status_code == 200


@pytest.mark.parametrize(
    "field, value",
    [("sku", "MAT-1\n"), ("location", "S1\n"), ("source", "sap\r\nX-Injected: 1"), ("reference", "ORDER\x00-1")],
)
def test_ids_must_match_whole_and_text_holds_no_control_characters(network, field, value):
    item = event_json(f"ctl-{field}", "stock.issued", quantity=1, ms=1, reason="sale", reference="ORDER-1")
    body = send(network, {**item, field: value})
    assert body["dead_lettered"] == 1 and field in body["not_applied"][0]["detail"]
    assert position(network)["on_hand"] == 0


@pytest.mark.parametrize(
    "body",
    [
        '{"events": ' + "[" * 1000 + "]" * 1000 + "}",  # nested far deeper than any batch
        '{"events": [{"quantity": ' + "9" * 5000 + "}]}",  # beyond Python's integer digit limit
        '{"events": [{"quantity": NaN}]}',
        '{"events": [{"quantity": -Infinity}]}',
    ],
)
def test_a_body_that_is_not_strict_json_is_a_400_problem(network, body):
    answer = network.post(f"{V1}/events", data=body, content_type="application/json")
    assert_problem(answer, 400)


def test_a_count_from_the_future_is_dead_lettered_and_never_freezes_the_position(network):
    """One stock.counted dated 9999-12-31 must not make every later event stale for good."""
    now = datetime.now(UTC)
    body = send(
        network,
        event_json("c-now", "stock.counted", quantity=10, occurred_at=now - timedelta(minutes=1)),
        event_json("c-far", "stock.counted", quantity=500, occurred_at="9999-12-31T00:00:00Z"),
        event_json("c-soon", "stock.counted", quantity=9, occurred_at=now + timedelta(minutes=4)),
    )
    later = send(network, event_json("sale", "stock.issued", quantity=2, occurred_at=now + timedelta(minutes=5)))

    assert (body["applied"], body["dead_lettered"]) == (2, 1)
    [refused] = body["not_applied"]
    assert (refused["index"], refused["event_id"], refused["reason"]) == (1, "c-far", "from_future")
    entry = network.get(f"{V1}/dead-letters/{refused['dead_letter_id']}").get_json()
    assert (entry["status"], entry["reason"]) == ("open", "from_future")
    assert later["applied"] == 1 and later["stale"] == 0
    assert position(network)["on_hand"] == 7  # the count 4 minutes ahead is within the allowed skew


def test_the_allowed_clock_skew_is_a_setting(redis_url):
    settings = Settings.from_env({"REDIS_URL": redis_url, "MAX_CLOCK_SKEW_SECONDS": "60"})
    api = service_client(create_app(settings, create_redis(settings)))
    assert api.put(f"{V1}/locations/S1", json={"type": "store", "channels": ["web"]}).status_code == 201

    body = send(
        api, event_json("soon", "stock.received", quantity=1, occurred_at=datetime.now(UTC) + timedelta(minutes=2))
    )

    assert body["not_applied"][0]["reason"] == "from_future"
