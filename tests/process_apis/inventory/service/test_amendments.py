"""Reservation attributes (created_by, note) and PATCH (re-key and/or new expiry) over HTTP
against a real redis-server: what a checkout does to turn a cart's holds into an order's."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from process_apis.inventory.adapters.keys import Keys
from process_apis.inventory.adapters.ledger import LedgerStore
from process_apis.inventory.adapters.replay import replay
from process_apis.inventory.service.reservations import expire_due
from tests.process_apis.inventory.support import V1, assert_problem, position, receive, reserve, send
from tests.support.auth import service_client
from tests.support.inventory import event_json

CART_LINES = ({"sku": "MAT-1", "location": "S1", "quantity": 2}, {"sku": "MAT-2", "location": "S1", "quantity": 1})


@pytest.fixture
def cart(network):
    """An active web reservation of 2 × MAT-1 and 1 × MAT-2 at S1 for CART-42, held 60 seconds."""
    receive(network, 10, sku="MAT-1")
    receive(network, 10, sku="MAT-2")
    response = reserve(network, *CART_LINES, external_ref="CART-42", ttl_seconds=60)
    assert response.status_code == 201
    return response.get_json()


def patch(api, reservation_id, body, key=None):
    return api.patch(f"{V1}/reservations/{reservation_id}", json=body, headers={"Idempotency-Key": key} if key else {})


def found_by_ref(api, external_ref) -> list[str]:
    return [
        r["id"] for r in api.get(f"{V1}/reservations", query_string={"external_ref": external_ref}).get_json()["items"]
    ]


def issue(api, event_id, quantity, reference, sku="MAT-1"):
    send(
        api,
        event_json(
            event_id,
            "stock.issued",
            sku=sku,
            location="S1",
            quantity=quantity,
            reference=reference,
            reason="sale",
            occurred_at=datetime.now(UTC),
        ),
    )


def seconds_left(reservation: dict) -> float:
    return (datetime.fromisoformat(reservation["expires_at"]) - datetime.now(UTC)).total_seconds()


# -- created_by and note ---------------------------------------------------------------------


def test_the_agent_and_note_are_kept_and_returned(network):
    network.put(f"{V1}/locations/C1", json={"type": "store"})  # serves every channel
    receive(network, 5, location="C1")

    response = reserve(
        network,
        {"sku": "MAT-1", "location": "C1", "quantity": 1},
        channel="call_centre",
        external_ref="CASE-9",
        created_by="agent-17",
        note="customer collects on Friday",
    )

    assert response.status_code == 201
    made = response.get_json()
    assert (made["created_by"], made["note"]) == ("agent-17", "customer collects on Friday")
    read = network.get(f"{V1}/reservations/{made['id']}").get_json()
    assert (read["created_by"], read["note"]) == ("agent-17", "customer collects on Friday")


def test_without_agent_or_note_both_are_null(cart):
    assert (cart["created_by"], cart["note"]) == (None, None)


@pytest.mark.parametrize(
    "extra",
    [{"note": "x" * 501}, {"note": ""}, {"created_by": "agent 17"}, {"created_by": "a" * 65}, {"created_by": 17}],
    ids=["note too long", "empty note", "agent with a space", "agent too long", "agent a number"],
)
def test_a_bad_agent_or_note_is_a_422_and_holds_nothing(network, extra):
    receive(network, 5)

    assert_problem(reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 1}, **extra), 422)
    assert position(network)["reserved"] == 0


# -- PATCH: re-key and expiry ----------------------------------------------------------------


def test_checkout_rekeys_the_cart_to_the_order_and_holds_it_longer_in_one_step(network, cart):
    response = patch(network, cart["id"], {"external_ref": "ORDER-1001", "ttl_seconds": 14400})

    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["status"], body["external_ref"]) == (cart["id"], "active", "ORDER-1001")
    assert 14390 < seconds_left(body) <= 14400  # RESERVATION_MAX_TTL_SECONDS
    assert network.get(f"{V1}/reservations/{cart['id']}").get_json() == body
    assert (found_by_ref(network, "ORDER-1001"), found_by_ref(network, "CART-42")) == ([cart["id"]], [])
    assert (position(network, sku="MAT-1")["reserved"], position(network, sku="MAT-2")["reserved"]) == (2, 1)


def test_after_rekeying_the_goods_issue_naming_the_order_consumes_the_hold(network, cart):
    patch(network, cart["id"], {"external_ref": "ORDER-1001"})

    issue(network, "gi-cart", 2, "CART-42")
    assert position(network, sku="MAT-1")["reserved"] == 2  # the cart's name no longer takes it

    issue(network, "gi-order-1", 2, "ORDER-1001")
    issue(network, "gi-order-2", 1, "ORDER-1001", sku="MAT-2")
    assert (position(network, sku="MAT-1")["reserved"], position(network, sku="MAT-2")["reserved"]) == (0, 0)
    assert network.get(f"{V1}/reservations/{cart['id']}").get_json()["status"] == "consumed"


def test_the_same_patch_twice_gives_the_same_reservation(network, cart):
    first = patch(network, cart["id"], {"external_ref": "ORDER-1001", "ttl_seconds": 3600}).get_json()
    second = patch(network, cart["id"], {"external_ref": "ORDER-1001", "ttl_seconds": 3600}).get_json()

    assert {**second, "expires_at": None} == {**first, "expires_at": None}
    assert second["expires_at"] >= first["expires_at"]
    assert found_by_ref(network, "ORDER-1001") == [cart["id"]]
    assert position(network, sku="MAT-1")["reserved"] == 2


def test_a_patch_retried_with_its_idempotency_key_replays_the_first_answer(network, cart):
    first = patch(network, cart["id"], {"external_ref": "ORDER-1001", "ttl_seconds": 3600}, key="checkout-1001")
    retry = patch(network, cart["id"], {"external_ref": "ORDER-1001", "ttl_seconds": 3600}, key="checkout-1001")

    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert_problem(patch(network, cart["id"], {"external_ref": "ORDER-1002"}, key="checkout-1001"), 422)


def test_only_the_expiry_can_be_patched(network, cart):
    body = patch(network, cart["id"], {"ttl_seconds": 600}).get_json()

    assert body["external_ref"] == "CART-42" and 590 < seconds_left(body) <= 600


@pytest.mark.parametrize("ending", ["release", "fulfil"])
def test_patching_a_reservation_that_is_not_active_is_a_409(network, cart, ending):
    network.post(f"{V1}/reservations/{cart['id']}/{ending}", json={} if ending == "release" else None)

    assert_problem(patch(network, cart["id"], {"external_ref": "ORDER-1001"}), 409)
    assert network.get(f"{V1}/reservations/{cart['id']}").get_json()["external_ref"] == "CART-42"
    assert found_by_ref(network, "ORDER-1001") == []


@pytest.mark.parametrize(
    "body",
    [
        {"ttl_seconds": 14401},
        {"ttl_seconds": 0},
        {"ttl_seconds": "soon"},
        {},
        {"external_ref": ""},
        {"external_ref": "x" * 129},
        {"status": "active"},
    ],
    ids=[
        "ttl above the maximum",
        "ttl 0",
        "ttl not a number",
        "nothing to change",
        "empty reference",
        "reference too long",
        "an unknown field",
    ],
)
def test_a_bad_patch_is_a_422_and_changes_nothing(network, cart, body):
    assert_problem(patch(network, cart["id"], {**body}), 422)

    unchanged = network.get(f"{V1}/reservations/{cart['id']}").get_json()
    assert (unchanged["external_ref"], unchanged["expires_at"]) == ("CART-42", cart["expires_at"])


def test_a_reservation_past_its_expiry_cannot_be_patched_back_to_life_before_the_sweeper_runs(app, network):
    receive(network, 5)
    made = reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 1}, ttl_seconds=1).get_json()
    time.sleep(max(0.0, seconds_left(made)) + 0.05)  # the wall clock past its expiry; no sweeper runs here

    for body in ({"ttl_seconds": 3600}, {"external_ref": "ORDER-9"}):
        assert "expired" in assert_problem(patch(network, made["id"], body), 409)["detail"]
    assert expire_due(app.extensions["inventory"]) == 1
    assert network.get(f"{V1}/reservations/{made['id']}").get_json()["status"] == "expired"


def test_patching_an_unknown_reservation_is_a_404(network):
    assert_problem(patch(network, "nope", {"external_ref": "ORDER-1"}), 404)


def test_a_patched_expiry_outlives_the_old_one(app, network):
    receive(network, 5)
    made = reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 1}, ttl_seconds=1).get_json()

    patch(network, made["id"], {"ttl_seconds": 3600})
    # Waiting for the wall clock to pass the old expiry, not for anything to settle.
    time.sleep(max(0.0, seconds_left(made)) + 0.05)

    assert expire_due(app.extensions["inventory"]) == 0
    assert network.get(f"{V1}/reservations/{made['id']}").get_json()["status"] == "active"


def test_a_schedule_left_behind_by_a_crash_is_corrected_from_the_header(app, cart):
    inventory = app.extensions["inventory"]
    # A process died after the header took a later expiry but before the schedule did.
    doc = inventory.reservations.get(cart["id"])
    later = datetime.now(UTC) + timedelta(hours=1)
    doc["expires_at"] = later.isoformat()
    inventory.reservations.transition(doc, ("active",))
    inventory.reservations.schedule_expiry(cart["id"], 0)

    assert expire_due(inventory) == 0

    assert inventory.reservations.get(cart["id"])["status"] == "active"
    scheduled = app.extensions["redis"].zscore(Keys().reservation_expiry, cart["id"])
    assert scheduled == int(later.timestamp() * 1000)


def test_a_rekey_is_logged_so_replay_rebuilds_which_reference_consumes_the_hold(app, network, cart):
    patch(network, cart["id"], {"external_ref": "ORDER-1001"})
    source = app.extensions["inventory"].ledger
    target = LedgerStore(app.extensions["redis"], keys=Keys("rebuilt"), policy=source.policy)

    replay(source, target, ["MAT-1"])

    redis = app.extensions["redis"]
    assert redis.smembers("rebuilt:{MAT-1}:ref:ORDER-1001") == {cart["id"]}
    assert not redis.exists("rebuilt:{MAT-1}:ref:CART-42")
    assert redis.hget(f"rebuilt:{{MAT-1}}:hold:{cart['id']}", "_refs") == f"{cart['id']}\nORDER-1001"


# -- concurrent changes ----------------------------------------------------------------------


def test_a_header_changed_since_it_was_read_is_not_overwritten(app, cart):
    store = app.extensions["inventory"].reservations
    text = store.get_text(cart["id"])
    other = {**store.get(cart["id"]), "note": "changed by someone else"}
    assert store.transition(other, ("active",))[0]

    mine = {**store.get(cart["id"]), "external_ref": "ORDER-1", "note": None}
    stored, _ = store.transition(mine, ("active",), unchanged_since=text)

    assert not stored
    assert (store.get(cart["id"])["note"], store.get(cart["id"])["external_ref"]) == (
        "changed by someone else",
        "CART-42",
    )


def test_concurrent_partial_releases_and_a_rekey_all_land_in_the_header(app, network):
    receive(network, 10)
    made = reserve(network, {"sku": "MAT-1", "location": "S1", "quantity": 6}).get_json()
    clients = [service_client(app) for _ in range(5)]
    start = threading.Barrier(len(clients))
    statuses = []

    def release_one(client):
        start.wait()
        statuses.append(
            client.post(
                f"{V1}/reservations/{made['id']}/release",
                json={"lines": [{"sku": "MAT-1", "location": "S1", "quantity": 1}]},
            ).status_code
        )

    def rekey(client):
        start.wait()
        statuses.append(patch(client, made["id"], {"external_ref": "ORDER-1"}).status_code)

    threads = [threading.Thread(target=release_one, args=(c,)) for c in clients[:-1]]
    threads.append(threading.Thread(target=rekey, args=(clients[-1],)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [200] * len(clients)
    header = network.get(f"{V1}/reservations/{made['id']}").get_json()
    assert (header["external_ref"], header["lines"][0]["reserved"]) == ("ORDER-1", 2)
    assert position(network)["reserved"] == 2
