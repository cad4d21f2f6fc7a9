"""The inventory process API over HTTP (Flask test client) against a real redis-server:
events, locations, rules, availability, reservations, dead letters, and problem+json errors."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from process_apis.inventory.app import create_app
from process_apis.inventory.service.reservations import expire_due
from shared.auth import public
from shared.config import Settings
from shared.redis import create_redis
from tests.support.auth import service_client
from tests.support.inventory import event_json
from tests.support.redis_servers import free_port

V1 = "/inventory/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def app(redis_url):
    settings = Settings.from_env({"REDIS_URL": redis_url})
    return create_app(settings, create_redis(settings))


@pytest.fixture
def api(app):
    return service_client(app)


@pytest.fixture
def network(api):
    """S1, S2 stores and D1 serve web; S3 serves only the store channel.
    WEB-SHIP (priority) and WEB-MOST (most_available) group S1, S2, S3."""
    for location_id, body in {
        "S1": {"type": "store", "channels": ["web", "store"], "fulfilment_methods": ["ship", "pickup"]},
        "S2": {"type": "store", "channels": ["web", "store"], "fulfilment_methods": ["ship"]},
        "S3": {"type": "store", "channels": ["store"]},
        "D1": {"type": "dc", "channels": ["web"]},
    }.items():
        assert api.put(f"{V1}/locations/{location_id}", json=body).status_code == 201
    for group_id, strategy in (("WEB-SHIP", "priority"), ("WEB-MOST", "most_available")):
        response = api.put(f"{V1}/location-groups/{group_id}",
                           json={"members": ["S1", "S2", "S3"], "sourcing_strategy": strategy, "channel": "web"})
        assert response.status_code == 201
    return api


_ids = iter(range(1, 1_000_000))


def send(api, *events):
    response = api.post(f"{V1}/events", json={"events": list(events)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def receive(api, quantity, location="S1", sku="MAT-1", **extra):
    body = send(api, event_json(f"r-{next(_ids)}", "stock.received", sku=sku, location=location, quantity=quantity,
                                ms=next(_ids), **extra))
    assert body["applied"] == 1


def availability(api, **params):
    response = api.get(f"{V1}/availability", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def position(api, location="S1", sku="MAT-1", channel=None):
    params = {"sku": sku, "location": location, **({"channel": channel} if channel else {})}
    [found] = availability(api, **params)["positions"]
    return found


def reserve(api, *lines, key=None, channel="web", external_ref="ORDER-1", **extra):
    body = {"channel": channel, "external_ref": external_ref, "lines": list(lines), **extra}
    return api.post(f"{V1}/reservations", json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex})


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status and body["type"].startswith("https://")
    assert not {"code", "message"} & body.keys()
    return body


# -- events ----------------------------------------------------------------------------------

def test_a_batch_gets_an_outcome_for_every_event(network):
    api = network
    receipt = event_json("r1", "stock.received", quantity=10, ms=1)
    body = send(api,
                receipt,
                receipt,
                event_json("c1", "stock.counted", quantity=8, ms=20),
                event_json("i1", "stock.issued", quantity=1, ms=10, reason="sale"),
                {k: v for k, v in event_json("bad", "stock.received").items() if k != "sku"},
                event_json("frac", "stock.received", quantity=2.5),
                event_json("where", "stock.received", location="NOWHERE"),
                "not an event")

    assert {k: body[k] for k in ("received", "applied", "duplicate", "stale", "dead_lettered")} == {
        "received": 8, "applied": 2, "duplicate": 1, "stale": 1, "dead_lettered": 4}
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
    assert (entry["status"], entry["reason"], entry["payload"]) == ("open", "unknown_location", event_json(
        "where", "stock.received", location="NOWHERE"))


def test_a_transfer_to_an_unknown_location_is_dead_lettered(network):
    body = send(network, event_json("t", "transfer.moved", location="S1", to_location="NOWHERE", quantity=1))

    assert body["not_applied"][0]["reason"] == "unknown_location"
    assert position(network)["on_hand"] == 0


@pytest.mark.parametrize("body", [[{"event_id": "x"}], {"events": "x"}, {"events": []}, {}, {"batch": []}],
                         ids=["a list", "events not a list", "no events", "empty object", "other key"])
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


# -- locations and groups --------------------------------------------------------------------

def test_putting_a_location_creates_then_replaces_it(api):
    body = {"type": "store", "name": "Berlin Mitte", "region": "DE-BE", "channels": ["web"],
            "fulfilment_methods": ["pickup"]}

    created = api.put(f"{V1}/locations/S1", json=body)
    replaced = api.put(f"{V1}/locations/S1", json={**body, "name": "Berlin"})

    assert (created.status_code, replaced.status_code) == (201, 200)
    stored = api.get(f"{V1}/locations/S1").get_json()
    assert {k: stored[k] for k in ("id", "type", "name", "region", "channels", "fulfilment_methods")} == {
        "id": "S1", "type": "store", "name": "Berlin", "region": "DE-BE", "channels": ["web"],
        "fulfilment_methods": ["pickup"]}
    assert [loc["id"] for loc in api.get(f"{V1}/locations").get_json()] == ["S1"]


@pytest.mark.parametrize(("location_id", "body"), [
    ("S1", {"type": "warehouse"}),
    ("S1", {}),
    ("{S1}", {"type": "store"}),
])
def test_an_invalid_location_is_a_422(api, location_id, body):
    assert_problem(api.put(f"{V1}/locations/{location_id}", json=body), 422)
    assert api.get(f"{V1}/locations").get_json() == []


def test_putting_a_group_creates_then_replaces_it(network):
    created = network.put(f"{V1}/location-groups/PICKUP", json={"members": ["S2", "S1"], "fulfilment_method": "pickup"})
    replaced = network.put(f"{V1}/location-groups/PICKUP", json={"members": ["S1"], "fulfilment_method": "pickup"})

    assert (created.status_code, replaced.status_code) == (201, 200)
    stored = network.get(f"{V1}/location-groups/PICKUP").get_json()
    assert (stored["members"], stored["sourcing_strategy"]) == (["S1"], "priority")
    assert stored["fulfilment_method"] == "pickup"
    assert [g["id"] for g in network.get(f"{V1}/location-groups").get_json()] == ["PICKUP", "WEB-MOST", "WEB-SHIP"]


def test_a_group_with_an_unknown_member_is_a_422_and_not_stored(network):
    problem = assert_problem(network.put(f"{V1}/location-groups/G", json={"members": ["S1", "NOWHERE"]}), 422)

    assert "NOWHERE" in problem["detail"]
    assert_problem(network.get(f"{V1}/location-groups/G"), 404)


# -- rules -----------------------------------------------------------------------------------

def put_rules(api, document, etag=None):
    etag = etag or api.get(f"{V1}/rules").headers["ETag"]
    return api.put(f"{V1}/rules", json=document, headers={"If-Match": etag})


def test_the_rule_set_starts_empty_at_version_0(api):
    response = api.get(f"{V1}/rules")

    assert response.status_code == 200 and response.headers["ETag"] == '"rules-v0"'
    assert response.get_json()["version"] == 0


def test_replacing_rules_needs_the_current_etag(api):
    document = {"safety_stock": [{"units": 2}]}

    assert_problem(api.put(f"{V1}/rules", json=document), 428)
    stale = assert_problem(api.put(f"{V1}/rules", json=document, headers={"If-Match": '"rules-v7"'}), 412)
    assert "rules-v0" in stale["detail"]
    assert api.put(f"{V1}/rules", json=document, headers={"If-Match": '"rules-v7"'}).headers["ETag"] == '"rules-v0"'

    good = api.put(f"{V1}/rules", json=document, headers={"If-Match": '"rules-v0"'})
    assert good.status_code == 200 and good.headers["ETag"] == '"rules-v1"'
    assert (good.get_json()["version"], good.get_json()["safety_stock"][0]["units"]) == (1, 2)

    reread = api.get(f"{V1}/rules")
    assert reread.headers["ETag"] == '"rules-v1"' and reread.get_json()["version"] == 1
    assert_problem(api.put(f"{V1}/rules", json={}, headers={"If-Match": '"rules-v0"'}), 412)
    assert api.put(f"{V1}/rules", json={}, headers={"If-Match": "*"}).headers["ETag"] == '"rules-v2"'


def test_two_rules_with_the_same_selector_are_a_422(api):
    document = {"safety_stock": [{"sku": "MAT-1", "units": 1}, {"sku": "MAT-1", "percent": 10}]}

    assert_problem(put_rules(api, document), 422)
    assert api.get(f"{V1}/rules").get_json()["version"] == 0


@pytest.mark.parametrize(("rule", "expected_available"), [
    ({"units": 2}, 8),
    ({"percent": 15}, 8),           # 1.5 units, rounded up
    ({"location": "S2", "units": 5}, 10),
    ({"sku": "MAT-1", "channel": "web", "units": 4}, 6),
])
def test_safety_stock_changes_availability_at_once(network, rule, expected_available):
    receive(network, 10)
    assert position(network, channel="web")["available_to_sell"] == 10

    assert put_rules(network, {"safety_stock": [rule]}).status_code == 200

    assert position(network, channel="web")["available_to_sell"] == expected_available


def test_an_allocation_for_another_channel_is_held_back(network):
    receive(network, 10)

    assert put_rules(network, {"allocations": [{"channel": "store", "location": "S1", "units": 3}]}).status_code == 200

    web, store = position(network, channel="web"), position(network, channel="store")
    assert (web["available_to_sell"], web["allocated"]) == (7, 3)
    assert (store["available_to_sell"], store["allocated"]) == (10, 0)




def test_a_time_windowed_promotion_allocation_applies_only_inside_its_window(network):
    receive(network, 10)
    now = datetime.now(timezone.utc)
    document = {"allocations": [
        {"channel": "store", "location": "S1", "units": 2, "starts_at": (now - timedelta(hours=1)).isoformat(),
         "ends_at": (now + timedelta(hours=1)).isoformat()},
        {"channel": "call_centre", "location": "S1", "units": 5, "starts_at": (now + timedelta(days=1)).isoformat()},
    ]}

    assert put_rules(network, document).status_code == 200

    assert position(network, channel="web")["available_to_sell"] == 8


def test_a_time_windowed_rule_set_reads_back_as_stored(network):
    starts = "2026-11-27T00:00:00+00:00"
    put_rules(network, {"allocations": [{"channel": "web", "location": "S1", "units": 1, "starts_at": starts}]})

    response = network.get(f"{V1}/rules")

    assert response.status_code == 200
    assert response.get_json()["allocations"][0]["starts_at"] == starts


def test_low_stock_band_and_incoming_stock_come_from_rules(network):
    receive(network, 3)
    send(network, event_json("ship", "transfer.shipped", location="D1", to_location="S1", quantity=5, ms=10**6))

    put_rules(network, {"low_stock": [{"threshold": 5}], "channels_selling_incoming": ["web"]})

    web, store = position(network, channel="web"), position(network, channel="store")
    assert (web["available_to_sell"], web["available_to_order"], web["status"]) == (3, 8, "in_stock")
    assert (store["available_to_sell"], store["available_to_order"], store["status"]) == (3, 3, "low_stock")
    assert position(network, "D1")["negative"] is True


# -- availability ----------------------------------------------------------------------------

def test_availability_at_a_location_reports_every_quantity(network):
    receive(network, 10)
    receive(network, 2, stock_type="blocked")
    send(network, event_json("ret", "stock.returned", quantity=1, ms=10**6))

    found = position(network, channel="web")

    assert {k: found[k] for k in ("sku", "location", "channel", "on_hand", "reserved", "quality_inspection",
                                   "blocked", "in_transit", "available_to_sell", "status", "negative")} == {
        "sku": "MAT-1", "location": "S1", "channel": "web", "on_hand": 10, "reserved": 0, "quality_inspection": 1,
        "blocked": 2, "in_transit": 0, "available_to_sell": 10, "status": "in_stock", "negative": False}


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


def test_without_a_location_every_location_holding_the_sku_is_listed(network):
    receive(network, 4, location="S2")
    receive(network, 1, location="S1")
    receive(network, 9, location="S1", sku="MAT-2")

    body = availability(network, sku=["MAT-1", "MAT-2", "MAT-3"])

    assert [(p["sku"], p["location"], p["on_hand"]) for p in body["positions"]] == [
        ("MAT-1", "S1", 1), ("MAT-1", "S2", 4), ("MAT-2", "S1", 9)]


@pytest.mark.parametrize("params", [{"sku": "MAT-1", "location": "NOWHERE"},
                                    {"sku": "MAT-1", "location_group": "NOWHERE"}])
def test_availability_at_an_unknown_place_is_a_404(network, params):
    assert_problem(network.get(f"{V1}/availability", query_string=params), 404)


# -- reservations ----------------------------------------------------------------------------

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
    response = network.post(f"{V1}/reservations", json={"channel": "web", "external_ref": "X",
                                                        "lines": [{"sku": "MAT-1", "location": "S1", "quantity": 1}]})

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

    response = reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 3},
                       {"sku": "MAT-2", "location": "S1", "quantity": 4})

    problem = assert_problem(response, 409)
    assert problem["shortfalls"] == [{"line": 1, "sku": "MAT-2", "location": "S1", "location_group": None,
                                      "requested": 4, "available": 2}]
    assert position(network, sku="MAT-1")["reserved"] == 0 and position(network, sku="MAT-2")["reserved"] == 0


def test_allow_partial_reserves_what_there_is_and_reports_the_shortfall(network):
    receive(network, 2)

    response = reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 5}, allow_partial=True)

    assert response.status_code == 201
    body = response.get_json()
    assert body["lines"][0]["reserved"] == 2
    assert body["shortfalls"] == [{"line": 0, "sku": "MAT-1", "location": "S1", "location_group": None,
                                   "requested": 5, "available": 2}]


def test_a_location_that_does_not_serve_the_channel_cannot_be_reserved_for_it(network):
    receive(network, 10, location="S3")

    assert_problem(reserve(network, {"sku": "MAT-1", "location": "S3", "quantity": 1}), 422)


def test_a_group_for_another_channel_cannot_be_reserved_from(network):
    receive(network, 10, location="S1")

    problem = assert_problem(reserve(network, {"sku": "MAT-1", "location_group": "WEB-SHIP", "quantity": 1},
                                     channel="store"), 422)
    assert "for channel web" in problem["detail"]
    assert position(network, "S1")["reserved"] == 0


@pytest.mark.parametrize(("group", "allocations"), [
    ("WEB-SHIP", [{"location": "S1", "quantity": 3}, {"location": "S2", "quantity": 3}]),
    ("WEB-MOST", [{"location": "S2", "quantity": 5}, {"location": "S1", "quantity": 1}]),
])
def test_a_group_line_is_split_across_members(network, group, allocations):
    receive(network, 3, location="S1")
    receive(network, 5, location="S2")
    receive(network, 50, location="S3")  # serves only the store channel

    response = reserve(network, {"sku": "MAT-1", "location_group": group, "quantity": 6})

    assert response.status_code == 201
    assert response.get_json()["lines"][0]["allocations"] == allocations


@pytest.mark.parametrize(("channel", "scope"), [
    ("web", {"location": "S1"}), ("store", {"location": "S1"}), ("web", {"location": "S2"}),
    ("web", {"location_group": "WEB-SHIP"}), ("web", {"location_group": "WEB-MOST"}),
])
def test_what_availability_offers_is_exactly_what_a_reservation_can_take(network, channel, scope):
    receive(network, 20, location="S1")
    receive(network, 7, location="S2")
    put_rules(network, {
        "safety_stock": [{"percent": 15}, {"location": "S2", "units": 1}],
        "allocations": [{"channel": "store", "location": "S1", "units": 3},
                        {"channel": "call_centre", "location": "S1", "units": 2},
                        {"channel": "store", "location_group": "WEB-SHIP", "units": 4}],
    })
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
    response = reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 3},
                       {"sku": "MAT-1", "location": "S2", "quantity": 2})
    assert response.status_code == 201
    return response.get_json()


def test_releasing_a_reservation_gives_every_unit_back(network, reservation):
    response = network.post(f"{V1}/reservations/{reservation['id']}/release", json={})

    assert response.status_code == 200 and response.get_json()["status"] == "released"
    assert position(network, "S1")["reserved"] == 0 and position(network, "S2")["reserved"] == 0
    assert_problem(network.post(f"{V1}/reservations/{reservation['id']}/release", json={}), 409)


def test_releasing_some_units_keeps_the_rest_held(network, reservation):
    response = network.post(f"{V1}/reservations/{reservation['id']}/release",
                            json={"lines": [{"sku": "MAT-1", "location": "S1", "quantity": 1}]})

    body = response.get_json()
    assert (response.status_code, body["status"]) == (200, "active")
    assert [line["reserved"] for line in body["lines"]] == [2, 2]
    assert (position(network, "S1")["reserved"], position(network, "S2")["reserved"]) == (2, 2)


def test_releasing_the_last_units_releases_the_reservation(network, reservation):
    response = network.post(f"{V1}/reservations/{reservation['id']}/release",
                            json={"lines": [{"sku": "MAT-1", "location": "S1", "quantity": 3},
                                            {"sku": "MAT-1", "location": "S2", "quantity": 2}]})

    assert response.get_json()["status"] == "released"
    assert network.get(f"{V1}/reservations/{reservation['id']}").get_json()["status"] == "released"


def test_a_release_line_without_a_quantity_releases_all_of_that_line(network, reservation):
    response = network.post(f"{V1}/reservations/{reservation['id']}/release",
                            json={"lines": [{"sku": "MAT-1", "location": "S1"}]})

    assert response.status_code == 200
    assert (position(network, "S1")["reserved"], position(network, "S2")["reserved"]) == (0, 2)


def test_extending_a_reservation_moves_its_expiry(network, reservation):
    response = network.post(f"{V1}/reservations/{reservation['id']}/extend", json={"ttl_seconds": 3600})

    assert response.status_code == 200
    expires_at = datetime.fromisoformat(response.get_json()["expires_at"])
    assert timedelta(minutes=59) < expires_at - datetime.now(timezone.utc) <= timedelta(hours=1)


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

    now = datetime.now(timezone.utc)
    send(network, event_json("gi-1", "stock.issued", location="S1", quantity=3, reference="ORDER-1",
                             reason="sale", occurred_at=now))
    assert (position(network, "S1")["reserved"], position(network, "S1")["on_hand"]) == (0, 7)
    assert network.get(f"{V1}/reservations/{reservation['id']}").get_json()["status"] == "fulfilled"

    send(network, event_json("gi-2", "stock.issued", location="S2", quantity=2, reference="ORDER-1",
                             reason="sale", occurred_at=now))
    assert position(network, "S2")["reserved"] == 0
    assert network.get(f"{V1}/reservations/{reservation['id']}").get_json()["status"] == "consumed"


def test_a_goods_issue_that_arrives_before_fulfil_still_ends_the_hold(network, reservation):
    now = datetime.now(timezone.utc)
    send(network, event_json("gi-early", "stock.issued", location="S1", quantity=3, reference="ORDER-1",
                             reason="sale", occurred_at=now))

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
    time.sleep(max(0.0, (datetime.fromisoformat(body["expires_at"]) - datetime.now(timezone.utc)).total_seconds())
               + 0.05)

    assert expire_due(app.extensions["inventory"]) == 1
    assert position(network)["reserved"] == 0
    assert network.get(f"{V1}/reservations/{body['id']}").get_json()["status"] == "expired"
    assert expire_due(app.extensions["inventory"]) == 0


def test_an_unknown_reservation_is_a_404(network):
    assert_problem(network.get(f"{V1}/reservations/nope"), 404)
    assert_problem(network.post(f"{V1}/reservations/nope/fulfil"), 404)


# -- dead letters ----------------------------------------------------------------------------

def dead_letter(api, *events):
    return [item["dead_letter_id"] for item in send(api, *events)["not_applied"]]


def test_dead_letters_are_listed_by_reason_a_page_at_a_time(network):
    unknown = dead_letter(network, *[event_json(f"u{i}", "stock.received", location="NOWHERE") for i in range(3)])
    dead_letter(network, event_json("frac", "stock.received", quantity=0.5))

    first = network.get(f"{V1}/dead-letters", query_string={"reason": "unknown_location", "limit": 2}).get_json()
    second = network.get(f"{V1}/dead-letters", query_string={"reason": "unknown_location", "limit": 2,
                                                             "after": first["next"]}).get_json()

    assert len(first["items"]) == 2 and first["next"]
    assert len(second["items"]) == 1 and second["next"] is None
    assert sorted(item["id"] for item in first["items"] + second["items"]) == sorted(unknown)
    everything = network.get(f"{V1}/dead-letters").get_json()
    assert len(everything["items"]) == 4 and everything["next"] is None


def test_redriving_after_the_fix_applies_the_event_and_closes_the_entry(network):
    [entry_id] = dead_letter(network, event_json("late-store", "stock.received", location="S9", quantity=6))
    network.put(f"{V1}/locations/S9", json={"type": "store"})

    response = network.post(f"{V1}/dead-letters/{entry_id}/redrive")

    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["outcome"]) == ("redriven", "applied")
    assert position(network, "S9")["on_hand"] == 6
    assert network.get(f"{V1}/dead-letters").get_json()["items"] == []
    assert [e["id"] for e in network.get(f"{V1}/dead-letters", query_string={"status": "redriven"}).get_json()[
        "items"]] == [entry_id]
    assert_problem(network.post(f"{V1}/dead-letters/{entry_id}/redrive"), 409)


def test_a_redrive_that_still_fails_is_a_422_and_stays_open(network):
    [entry_id] = dead_letter(network, event_json("still", "stock.received", location="S9"))

    problem = assert_problem(network.post(f"{V1}/dead-letters/{entry_id}/redrive"), 422)

    assert problem["reason"] == "unknown_location"
    entry = network.get(f"{V1}/dead-letters/{entry_id}").get_json()
    assert (entry["status"], entry["attempts"]) == ("open", 1) and "unknown_location" in entry["last_error"]


def test_discarding_keeps_the_entry_closed_with_the_reason(network):
    [entry_id] = dead_letter(network, event_json("test", "stock.received", location="S9"))

    response = network.delete(f"{V1}/dead-letters/{entry_id}", json={"reason": "test event sent by mistake"})

    assert response.status_code == 200
    entry = network.get(f"{V1}/dead-letters/{entry_id}").get_json()
    assert (entry["status"], entry["discard_reason"]) == ("discarded", "test event sent by mistake")
    assert network.get(f"{V1}/dead-letters").get_json()["items"] == []
    discarded = network.get(f"{V1}/dead-letters", query_string={"status": "discarded"}).get_json()["items"]
    assert [e["id"] for e in discarded] == [entry_id]
    assert_problem(network.delete(f"{V1}/dead-letters/{entry_id}", json={"reason": "again"}), 409)


def test_discarding_needs_a_reason(network):
    [entry_id] = dead_letter(network, event_json("test", "stock.received", location="S9"))

    assert_problem(network.delete(f"{V1}/dead-letters/{entry_id}", json={}), 422)
    assert network.get(f"{V1}/dead-letters/{entry_id}").get_json()["status"] == "open"


# -- every error is problem+json -------------------------------------------------------------

@pytest.mark.parametrize(("status", "request_"), [
    (404, lambda api: api.get("/no/such/route")),
    (404, lambda api: api.get(f"{V1}/locations/NOWHERE")),
    (404, lambda api: api.get(f"{V1}/dead-letters/nope")),
    (405, lambda api: api.delete(f"{V1}/events")),
    (422, lambda api: api.put(f"{V1}/locations/S1", json={"type": "moon"})),
    (412, lambda api: api.put(f"{V1}/rules", json={}, headers={"If-Match": '"rules-v9"'})),
    (428, lambda api: api.put(f"{V1}/rules", json={})),
    (409, lambda api: reserve(api, {"sku": "MAT-1", "location": "S1", "quantity": 1})),
], ids=["route", "location", "dead letter", "405", "422", "412", "428", "409"])
def test_every_error_is_a_problem_document(network, status, request_):
    assert_problem(request_(network), status)


def test_an_unexpected_exception_is_a_500_problem_without_internals(app):
    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", "explode", public(explode))

    response = service_client(app).get("/explode")

    problem = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in problem["detail"]


def test_redis_being_down_is_a_500_problem():
    settings = Settings.from_env({"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "REDIS_TIMEOUT_SECONDS": "0.5"})
    api = service_client(create_app(settings, create_redis(settings)))

    assert_problem(api.get(f"{V1}/locations"), 500)
    assert_problem(api.post(f"{V1}/events", json={"events": [event_json("e", "stock.received")]}), 500)


def test_a_system_api_can_dead_letter_what_it_cannot_map_and_it_is_listed_with_its_reason(network):
    item = {"reason": "unmapped_location", "detail": "plant 1010 / sloc 0009 is not mapped",
            "payload": {"MaterialDocument": "4900000001", "MaterialDocumentItem": "0001"}, "source": "sap"}
    response = network.post(f"{V1}/dead-letters", json={"dead_letters": [item, {**item, "reason": "unknown_movement_type"}]})

    assert response.status_code == 201
    ids = response.get_json()["dead_letter_ids"]
    assert len(ids) == 2
    listed = network.get(f"{V1}/dead-letters", query_string={"reason": "unmapped_location"}).get_json()["items"]
    assert [(e["id"], e["source"], e["payload"]) for e in listed] == [(ids[0], "sap", item["payload"])]


def test_a_foreign_dead_letter_needs_a_reason_code(network):
    assert_problem(network.post(f"{V1}/dead-letters", json={"dead_letters": [
        {"reason": "Not A Code", "detail": "x", "payload": {}}]}), 422)


@pytest.mark.parametrize("params", [{"location": "S1"}, {"location_group": "WEB-SHIP", "channel": "web"}, {}])
def test_availability_is_serialised_exactly_as_its_documented_schema(app, network, params):
    from process_apis.inventory.api.availability import plain
    from process_apis.inventory.api.availability_schemas import AvailabilitySchema
    from process_apis.inventory.service.availability import query

    receive(network, 7, location="S1")
    receive(network, 3, location="S2")
    with app.app_context():
        result = query(app.extensions["inventory"], skus=["MAT-1"], locations=[params["location"]] if "location" in params else [],
                       location_group=params.get("location_group"), channel=params.get("channel"))
    assert plain(result) == AvailabilitySchema().dump(result)
    assert plain(result)["positions"] or plain(result)["groups"]


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
