"""Who may call the web API (web channel credentials only), and whose carts they see (their own only)."""

from __future__ import annotations

import pytest

from shared.auth import undeclared_routes
from tests.support.auth import service_client

HOLDS = "/web/v1/carts/cart-1/holds"
SHIP = {"lines": [{"sku": "SKU-A", "quantity": 2}], "fulfilment": "ship"}
OPERATIONS = [
    ("get", "/web/v1/availability?sku=SKU-A", None),
    ("get", HOLDS, None),
    ("post", HOLDS, SHIP),
    ("delete", f"{HOLDS}/0123456789abcdef0123456789abcdef", None),
    ("post", "/web/v1/carts/cart-1/checkout", {"order_id": "order-1"}),
]


@pytest.fixture
def stocked(rig):
    rig.count("SKU-A", "S003", 9)
    return rig


def call(client, method, url, body):
    return getattr(client, method)(url, json=body, headers={"Idempotency-Key": "k"} if body else {})


@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_without_an_api_key_every_operation_is_401(rig, method, url, body):
    response = call(rig.app.test_client(), method, url, body)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_store_and_call_centre_credentials_are_403(rig, method, url, body):
    store = rig.channel_client("store-s001", ["store"], store_id="S001")
    agents = rig.channel_client("call-centre", ["call-centre"])
    for client in (store, agents):
        response = call(client, method, url, body)
        assert response.status_code == 403
        assert response.get_json()["type"].endswith("/insufficient-scope")


def test_tier_service_credentials_cannot_call_the_web_api(rig):
    response = service_client(rig.app).get("/web/v1/availability?sku=SKU-A")
    assert response.status_code == 403
    assert response.get_json()["type"].endswith("/forbidden-kind")


def test_every_route_declares_its_scope(rig):
    assert undeclared_routes(rig.app) == []


def test_another_web_client_neither_sees_nor_releases_the_carts_holds(stocked):
    mine = stocked.client.post(HOLDS, json=SHIP, headers={"Idempotency-Key": "k1"}).get_json()
    other = stocked.channel_client("web-partner", ["web"])
    assert other.get(HOLDS).get_json()["items"] == []
    assert other.get(f"{HOLDS}/{mine['id']}").status_code == 404
    assert other.delete(f"{HOLDS}/{mine['id']}").status_code == 404
    checkout = other.post("/web/v1/carts/cart-1/checkout", json={"order_id": "o1"}, headers={"Idempotency-Key": "k2"})
    assert checkout.status_code == 409  # the same cart id is another, empty cart for this client
    assert stocked.client.get(HOLDS).get_json()["items"] == [mine]
    assert stocked.reservations("web:web-shop:cart:cart-1")[0]["status"] == "active"


def test_idempotency_keys_are_per_client(stocked):
    # The same key, path and body from two clients are two operations, never one client's replayed answer.
    mine = stocked.client.post(HOLDS, json=SHIP, headers={"Idempotency-Key": "same"})
    other = stocked.channel_client("web-partner", ["web"]).post(HOLDS, json=SHIP, headers={"Idempotency-Key": "same"})
    assert (mine.status_code, other.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in other.headers
    assert other.get_json()["id"] != mine.get_json()["id"]
    assert len(stocked.reservations("web:web-partner:cart:cart-1")) == 1


def test_openapi_document_and_docs_are_public_under_the_prefix(rig):
    client = rig.app.test_client()
    document = client.get("/web/v1/openapi.json")
    assert document.status_code == 200
    paths = document.get_json()["paths"]
    assert set(paths) == {
        "/web/v1/availability",
        "/web/v1/carts/{cart_id}/holds",
        "/web/v1/carts/{cart_id}/holds/{hold_id}",
        "/web/v1/carts/{cart_id}/checkout",
    }
    post = paths["/web/v1/carts/{cart_id}/holds"]["post"]
    assert {"201", "400", "409", "422"} <= set(post["responses"])
    assert post["summary"] and post["requestBody"]["content"]["application/json"]["examples"]
    assert {"200", "304", "422"} <= set(paths["/web/v1/availability"]["get"]["responses"])
    assert client.get("/web/v1/docs").status_code == 200
