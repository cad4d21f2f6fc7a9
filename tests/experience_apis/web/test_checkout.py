"""POST /web/v1/carts/{cart_id}/checkout: the cart's holds become the order's reservation, once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.experience_apis.web.conftest import WEB_CLIENT

CART = "/web/v1/carts/cart-1"
CART_REF, ORDER_REF = f"web:{WEB_CLIENT}:cart:cart-1", f"web:{WEB_CLIENT}:order:order-1"


def checkout(rig, order_id="order-1", key="checkout-1", cart=CART):
    return rig.client.post(f"{cart}/checkout", json={"order_id": order_id}, headers={"Idempotency-Key": key})


@pytest.fixture
def cart(build):
    """A cart holding 2 × SKU-A to ship and 3 × SKU-B to collect at S001."""
    rig = build(order_reservation_ttl_seconds=7200)
    rig.count("SKU-A", "S003", 9)
    rig.count("SKU-B", "S001", 13)
    for key, body in (
        ("h1", {"lines": [{"sku": "SKU-A", "quantity": 2}], "fulfilment": "ship"}),
        ("h2", {"lines": [{"sku": "SKU-B", "quantity": 3}], "fulfilment": "pickup", "store": "S001"}),
    ):
        assert rig.client.post(f"{CART}/holds", json=body, headers={"Idempotency-Key": key}).status_code == 201
    return rig


def reserved_units(rig) -> int:
    positions = rig.process.get("/inventory/v1/availability", query_string={"sku": ["SKU-A", "SKU-B"]}).get_json()
    return sum(position["reserved"] for position in positions["positions"])


def test_checkout_moves_every_active_hold_to_the_order(cart):
    holds = [hold["id"] for hold in cart.client.get(f"{CART}/holds").get_json()["items"]]
    response = checkout(cart)
    assert response.status_code == 201
    body = response.get_json()
    assert body["order_id"] == "order-1"
    assert sorted(body["reservation_ids"]) == sorted(holds)
    assert sorted(body["lines"], key=lambda line: line["sku"]) == [
        {"sku": "SKU-A", "quantity": 2, "fulfilment": "ship", "store": None},
        {"sku": "SKU-B", "quantity": 3, "fulfilment": "pickup", "store": "S001"},
    ]
    lasts = (datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)).total_seconds()
    assert lasts == pytest.approx(7200, abs=5)  # ORDER_RESERVATION_TTL_SECONDS, not the hold's
    order = cart.reservations(ORDER_REF)
    assert sorted(r["id"] for r in order) == sorted(holds)
    assert all(r["channel"] == "web" for r in order)
    assert cart.reservations(CART_REF) == []
    assert cart.client.get(f"{CART}/holds").get_json()["items"] == []
    assert reserved_units(cart) == 5  # the same units, now held for the order


def test_the_order_never_outlives_the_reservation_max_ttl(build):
    rig = build(order_reservation_ttl_seconds=7200, reservation_max_ttl_seconds=3600)
    rig.count("SKU-A", "S003", 9)
    assert (
        rig.client.post(
            f"{CART}/holds",
            json={"lines": [{"sku": "SKU-A", "quantity": 2}], "fulfilment": "ship"},
            headers={"Idempotency-Key": "h1"},
        ).status_code
        == 201
    )
    response = checkout(rig)
    assert response.status_code == 201, response.get_json()
    lasts = (datetime.fromisoformat(response.get_json()["expires_at"]) - datetime.now(UTC)).total_seconds()
    assert lasts == pytest.approx(3600, abs=5)  # RESERVATION_MAX_TTL_SECONDS, not ORDER_RESERVATION_TTL_SECONDS


def test_same_checkout_repeated_gives_the_same_answer_and_reserves_nothing_more(cart):
    first = checkout(cart)
    again = checkout(cart)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(cart.reservations(ORDER_REF)) == 2
    assert reserved_units(cart) == 5


def test_checkout_key_reused_for_another_order_is_422(cart):
    checkout(cart)
    response = checkout(cart, order_id="order-2")
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("/idempotency-key-reused")
    assert cart.reservations(f"web:{WEB_CLIENT}:order:order-2") == []


def test_checkout_repeated_with_a_new_key_answers_for_the_order_already_made(cart):
    # E.g. a retry after the first answer was lost with its stored record: the order is found again.
    first = checkout(cart).get_json()
    again = checkout(cart, key="checkout-2")
    assert again.status_code == 201
    assert sorted(again.get_json()["reservation_ids"]) == sorted(first["reservation_ids"])
    assert reserved_units(cart) == 5


def test_checkout_of_an_empty_cart_is_409(rig):
    response = checkout(rig, cart="/web/v1/carts/empty")
    assert response.status_code == 409
    assert response.get_json()["type"].endswith("/empty-cart")
    assert rig.reservations(ORDER_REF) == []


def test_checkout_after_releasing_every_hold_is_409(cart):
    for hold in cart.client.get(f"{CART}/holds").get_json()["items"]:
        assert cart.client.delete(f"{CART}/holds/{hold['id']}").status_code == 204
    assert checkout(cart).status_code == 409


def test_checkout_without_idempotency_key_is_400(cart):
    response = cart.client.post(f"{CART}/checkout", json={"order_id": "order-1"})
    assert response.status_code == 400
    assert cart.reservations(ORDER_REF) == []
    assert len(cart.reservations(CART_REF)) == 2


@pytest.mark.parametrize(
    "body", [{}, {"order_id": "bad order"}, {"order_id": "o" * 65}, {"order_id": "order-1", "total": 10}]
)
def test_invalid_checkout_bodies_are_422(cart, body):
    response = cart.client.post(f"{CART}/checkout", json=body, headers={"Idempotency-Key": "k"})
    assert response.status_code == 422
    assert len(cart.reservations(CART_REF)) == 2


def test_released_order_hold_is_no_longer_the_carts(cart):
    body = checkout(cart).get_json()
    # Checked out, the reservation answers to the order: the cart cannot release it any more.
    assert cart.client.delete(f"{CART}/holds/{body['reservation_ids'][0]}").status_code == 404
    assert len(cart.reservations(ORDER_REF)) == 2


@pytest.mark.parametrize("text", ["x\n", "x\u0000", "\ud800"])
def test_a_checkout_with_a_control_character_in_the_order_id_is_422_and_the_holds_stay_the_carts(cart, text):
    response = checkout(cart, order_id=text)

    assert response.status_code == 422 and "order_id" in response.get_json()["errors"]["json"]
    assert cart.client.get(f"{CART}/holds").get_json()["items"]
    assert checkout(cart, key="checkout-2").status_code == 201


@pytest.mark.parametrize("cart_id", ["cart-1%0A", "cart-1%00", "%ED%A0%80"])
def test_a_cart_id_with_a_control_character_is_422_not_a_new_cart(cart, cart_id):
    response = cart.client.post(
        f"/web/v1/carts/{cart_id}/holds",
        json={"lines": [{"sku": "SKU-A", "quantity": 1}], "fulfilment": "ship"},
        headers={"Idempotency-Key": "h3"},
    )

    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert reserved_units(cart) == 5
