"""Reservation look-ups over HTTP against a real redis-server: by external reference (the call
centre) and a store's active pickups by location, paged, filtered by channel, with stale index
entries (a goods issue, a process dying between a change and its index update) dropped on read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from process_apis.inventory.adapters.keys import Keys
from process_apis.inventory.service.reservations import RELEASED
from tests.process_apis.inventory.support import V1, assert_problem, receive, reserve, send
from tests.support.auth import service_client
from tests.support.inventory import event_json

S1 = {"sku": "MAT-1", "location": "S1", "quantity": 1}


@pytest.fixture
def stocked(network):
    for location in ("S1", "S2", "S3"):
        receive(network, 50, location=location)
    return network


def created(response) -> dict:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def lookup(api, **params) -> dict:
    response = api.get(f"{V1}/reservations", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(page: dict) -> list[str]:
    return [item["id"] for item in page["items"]]


def every_page(api, **params) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = lookup(api, **params, **({"after": cursor} if cursor else {}))
        pages.append(ids(page))
        cursor = page["next"]
        if cursor is None:
            return pages


def index_size(app, key: str) -> int:
    return app.extensions["redis"].zcard(key)


# -- by external reference -------------------------------------------------------------------


def test_every_reservation_with_an_external_ref_is_found_newest_first_whatever_its_status(stocked):
    first = created(reserve(stocked, S1, external_ref="ORDER-7"))
    second = created(reserve(stocked, {**S1, "location": "S2"}, external_ref="ORDER-7"))
    third = created(reserve(stocked, S1, external_ref="ORDER-7", channel="store"))
    created(reserve(stocked, S1, external_ref="ORDER-8"))
    stocked.post(f"{V1}/reservations/{first['id']}/release", json={})
    stocked.post(f"{V1}/reservations/{second['id']}/fulfil")

    page = lookup(stocked, external_ref="ORDER-7")

    assert sorted(ids(page)) == sorted([first["id"], second["id"], third["id"]])
    created_at = [item["created_at"] for item in page["items"]]
    assert created_at == sorted(created_at, reverse=True)
    assert {item["id"]: item["status"] for item in page["items"]} == {
        first["id"]: "released",
        second["id"]: "fulfilled",
        third["id"]: "active",
    }
    assert page["next"] is None


def test_a_reference_look_up_filters_by_channel_and_status(stocked):
    web = created(reserve(stocked, S1, external_ref="CASE-1"))
    store = created(reserve(stocked, S1, external_ref="CASE-1", channel="store"))
    stocked.post(f"{V1}/reservations/{web['id']}/release", json={})

    assert ids(lookup(stocked, external_ref="CASE-1", channel="store")) == [store["id"]]
    assert ids(lookup(stocked, external_ref="CASE-1", status="released")) == [web["id"]]
    assert ids(lookup(stocked, external_ref="CASE-1", channel="web", status="active")) == []


def test_a_reservation_whose_units_sap_issued_is_found_as_consumed(stocked):
    reservation = created(reserve(stocked, {**S1, "quantity": 2}, external_ref="ORDER-9"))
    stocked.post(f"{V1}/reservations/{reservation['id']}/fulfil")
    send(
        stocked,
        event_json(
            "gi-9",
            "stock.issued",
            location="S1",
            quantity=2,
            reference="ORDER-9",
            reason="sale",
            occurred_at=datetime.now(UTC),
        ),
    )

    [found] = lookup(stocked, external_ref="ORDER-9")["items"]

    assert (found["id"], found["status"]) == (reservation["id"], "consumed")
    assert lookup(stocked, external_ref="ORDER-9", status="fulfilled")["items"] == []


def test_an_unknown_reference_finds_nothing(network):
    assert lookup(network, external_ref="NOBODY") == {"items": [], "next": None}


# -- a store's pickups -----------------------------------------------------------------------


def test_a_store_lists_only_the_active_reservations_holding_stock_there(stocked):
    at_s1 = created(reserve(stocked, S1, external_ref="P-1"))
    created(reserve(stocked, {**S1, "location": "S2"}, external_ref="P-3"))
    released = created(reserve(stocked, S1, external_ref="P-4"))
    fulfilled = created(reserve(stocked, S1, external_ref="P-5"))
    stocked.post(f"{V1}/reservations/{released['id']}/release", json={})
    stocked.post(f"{V1}/reservations/{fulfilled['id']}/fulfil")
    # S1 has 48 left to sell, so the group line takes those and 2 at S2.
    split = created(
        reserve(stocked, {"sku": "MAT-1", "location_group": "WEB-SHIP", "quantity": 50}, external_ref="P-2")
    )
    assert [a["location"] for a in split["lines"][0]["allocations"]] == ["S1", "S2"]

    listed = lookup(stocked, location="S1", status="active")

    assert sorted(ids(listed)) == sorted([at_s1["id"], split["id"]])
    assert all(item["status"] == "active" for item in listed["items"])
    assert ids(lookup(stocked, location="S1")) == ids(listed)  # active is the default


def test_pickups_filter_by_channel(stocked):
    web = created(reserve(stocked, S1))
    store = created(reserve(stocked, S1, channel="store"))

    assert ids(lookup(stocked, location="S1", channel="store")) == [store["id"]]
    assert ids(lookup(stocked, location="S1", channel="web")) == [web["id"]]
    assert ids(lookup(stocked, location="S1", channel="call_centre")) == []


def test_pickups_come_a_page_at_a_time_each_once(stocked):
    made = [created(reserve(stocked, S1, external_ref=f"P-{i}"))["id"] for i in range(5)]

    pages = every_page(stocked, location="S1", limit=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(sum(pages, [])) == sorted(made)


def test_reference_look_ups_page_too(stocked):
    made = [created(reserve(stocked, S1, external_ref="ORDER-1"))["id"] for _ in range(3)]

    pages = every_page(stocked, external_ref="ORDER-1", limit=2)

    assert [len(page) for page in pages] == [2, 1]
    assert sorted(sum(pages, [])) == sorted(made)


def test_a_partial_release_emptying_a_location_takes_the_pickup_off_that_store_only(stocked):
    reservation = created(reserve(stocked, S1, {**S1, "location": "S2"}))

    stocked.post(f"{V1}/reservations/{reservation['id']}/release", json={"lines": [{"sku": "MAT-1", "location": "S1"}]})

    assert ids(lookup(stocked, location="S1")) == []
    assert ids(lookup(stocked, location="S2")) == [reservation["id"]]


def test_an_expired_reservation_leaves_the_pickups(app, stocked):
    from process_apis.inventory.service.reservations import expire_due

    reservation = created(reserve(stocked, S1, ttl_seconds=1))
    assert ids(lookup(stocked, location="S1")) == [reservation["id"]]
    inventory = app.extensions["inventory"]
    # Expire it now rather than waiting: its schedule and header say it is due.
    inventory.reservations.schedule_expiry(reservation["id"], 0)
    doc = inventory.reservations.get(reservation["id"])
    doc["expires_at"] = datetime(2000, 1, 1, tzinfo=UTC).isoformat()
    inventory.reservations.transition(doc, ("active",))

    assert expire_due(inventory) == 1

    assert ids(lookup(stocked, location="S1")) == []
    assert index_size(app, Keys().reservations_at("S1")) == 0


def test_units_sap_issued_without_a_fulfil_take_the_pickup_off_and_its_entry_is_dropped(app, stocked):
    reservation = created(reserve(stocked, {**S1, "quantity": 2}, external_ref="TILL-1"))
    # The customer paid at the till: SAP's goods issue names the reservation's reference.
    send(
        stocked,
        event_json(
            "gi-till",
            "stock.issued",
            location="S1",
            quantity=2,
            reference="TILL-1",
            reason="sale",
            occurred_at=datetime.now(UTC),
        ),
    )
    assert index_size(app, Keys().reservations_at("S1")) == 1

    assert ids(lookup(stocked, location="S1")) == []
    assert index_size(app, Keys().reservations_at("S1")) == 0
    assert stocked.get(f"{V1}/reservations/{reservation['id']}").get_json()["status"] == "consumed"


def test_an_entry_left_by_a_process_dying_before_its_index_update_is_dropped_when_read(app, stocked):
    kept = created(reserve(stocked, S1))
    ended = created(reserve(stocked, S1))
    # What a process dying right after the release's header change leaves: the entry.
    doc = app.extensions["inventory"].reservations.get(ended["id"])
    doc["status"] = RELEASED
    assert app.extensions["inventory"].reservations.transition(doc, ("active",))[0]

    assert ids(lookup(stocked, location="S1")) == [kept["id"]]
    assert index_size(app, Keys().reservations_at("S1")) == 1
    assert index_size(app, Keys().reservations_at("S1", "web")) == 2  # dropped from the index read only


def test_stale_entries_do_not_shorten_a_page_that_more_entries_can_fill(app, stocked):
    made = [created(reserve(stocked, S1))["id"] for _ in range(4)]
    inventory = app.extensions["inventory"]
    for reservation_id in made[2:]:  # the two newest ended without their index update
        doc = inventory.reservations.get(reservation_id)
        doc["status"] = RELEASED
        inventory.reservations.transition(doc, ("active",))

    page = lookup(stocked, location="S1", limit=2)

    assert sorted(ids(page)) == sorted(made[:2])


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"location": "S1", "colour": "red"},
        {"location": "S1", "limit": 0},
        {"location": "S1", "limit": 201},
        {"location": "S1", "limit": "many"},
        {"location": "S1", "status": "released"},
        {"location": "S1", "status": "lost"},
        {"location": "S1", "after": "not-a-cursor"},
        {"location": "S1", "external_ref": "ORDER-1"},
        {},
        {"channel": "web"},
        {"location": "{S1}"},
    ],
    ids=[
        "unknown filter",
        "limit 0",
        "limit too big",
        "limit not a number",
        "location with another status",
        "unknown status",
        "bad cursor",
        "both indexes",
        "no index",
        "only a channel",
        "bad location",
    ],
)
def test_a_bad_look_up_is_a_422_problem(network, params):
    problem = assert_problem(network.get(f"{V1}/reservations", query_string=params), 422)

    assert "query" in problem["errors"]


# -- Redis Cluster ---------------------------------------------------------------------------


def test_look_ups_and_rekeying_work_on_a_redis_cluster(cluster_url):
    from gateway.settings import Settings
    from process_apis.inventory.app import create_app
    from shared.redis import create_redis

    settings = Settings.from_env({"REDIS_URL": cluster_url})
    api = service_client(create_app(settings, create_redis(settings)))
    for location in ("S1", "S2"):
        assert api.put(f"{V1}/locations/{location}", json={"type": "store"}).status_code == 201
    for sku in ("MAT-1", "MAT-2"):  # two SKUs, so holds and indexes sit in different slots
        receive(api, 5, sku=sku)
    made = created(reserve(api, S1, {"sku": "MAT-2", "location": "S1", "quantity": 1}, external_ref="CART-1"))

    assert ids(lookup(api, location="S1")) == [made["id"]]
    assert api.patch(f"{V1}/reservations/{made['id']}", json={"external_ref": "ORDER-1"}).status_code == 200
    assert (ids(lookup(api, external_ref="ORDER-1")), ids(lookup(api, external_ref="CART-1"))) == ([made["id"]], [])
    api.post(f"{V1}/reservations/{made['id']}/release", json={})
    assert ids(lookup(api, location="S1")) == []
