"""Who may call the store API: a channel credential with the `store` scope, for the one store it is
bound to. Another store's id is 403 on every operation, whether that store exists or not, and
before the request's body or query is even read; so nothing changes there.

Decision: `nearby` of another store is refused too (403). A store associate asks what the stores
near *their* store could sell; the nearby answer of another store would say nothing they need and
would let one store's credential survey the network from anywhere."""

from __future__ import annotations

import pytest

from experience_apis.store.routes import PREFIX
from shared.auth import undeclared_routes
from tests.support.experience import SKU, assert_problem, availability, channel_client, count, documented_operations

OPERATIONS = [
    ("GET", "/products/{sku}", None),
    ("GET", "/products/{sku}/nearby", None),
    ("POST", "/returns", {"return_id": "R-1", "sku": SKU, "quantity": 1}),
    ("POST", "/inspections", {"inspection_id": "QI-1", "sku": SKU, "quantity": 1, "outcome": "pass"}),
    ("GET", "/pickups", None),
]


def call(client, method: str, store_id: str, path: str, body, **kwargs):
    url = f"{PREFIX}/stores/{store_id}{path.format(sku=SKU)}"
    return client.open(url, method=method, json=body, **kwargs)


@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_a_store_credential_cannot_act_for_another_store(s001, process, method, path, body):
    count(process, "S002", 10)
    before = availability(process, "S002", "store")

    problem = assert_problem(call(s001, method, "S002", path, body), 403, "other-store")

    assert "S001" in problem["detail"]
    assert availability(process, "S002", "store") == before


@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_another_store_is_refused_before_the_request_is_validated(s001, method, path, body):
    invalid = {"unexpected": True} if body else None
    query = {"limit": "many"} if body is None else None

    assert_problem(call(s001, method, "S002", path, invalid, query_string=query), 403, "other-store")


@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_an_unknown_store_is_403_to_another_stores_credential(s001, method, path, body):
    # Refused as another store, not answered 404: a credential cannot probe which stores exist.
    assert_problem(call(s001, method, "S999", path, body), 403, "other-store")


@pytest.mark.parametrize("method, path, body", OPERATIONS)
@pytest.mark.parametrize("store_id", ["S999", "DC01"])
def test_a_store_unknown_to_the_network_is_404(app, redis, method, path, body, store_id):
    # A credential bound to a store the network does not know (or to a location that is no store).
    client = channel_client(app, redis, f"store-{store_id.lower()}", ["store"], store_id=store_id)

    assert_problem(call(client, method, store_id, path, body), 404, "unknown-store")


@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_its_own_store_is_allowed(s001, method, path, body):
    assert call(s001, method, "S001", path, body).status_code in (200, 201)


@pytest.mark.parametrize("method, path, body", OPERATIONS)
def test_without_an_api_key_every_operation_is_401(app, method, path, body):
    response = call(app.test_client(), method, "S001", path, body)

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method, path, body", OPERATIONS)
@pytest.mark.parametrize(
    "client_id, kind, scopes, slug",
    [
        ("web-shop", "channel", ["web"], "insufficient-scope"),
        ("call-centre", "channel", ["call-centre"], "insufficient-scope"),
        ("a-service", "service", ["service"], "forbidden-kind"),
    ],
)
def test_credentials_without_the_store_scope_are_403(app, redis, method, path, body, client_id, kind, scopes, slug):
    client = channel_client(app, redis, client_id, scopes, kind=kind)

    assert_problem(call(client, method, "S001", path, body), 403, slug)


def test_a_malformed_sku_in_the_path_is_422(s001):
    problem = assert_problem(s001.get(f"{PREFIX}/stores/S001/products/MAT%7B1%7D"), 422)

    assert "sku" in problem["errors"]["path"]


def test_every_operation_requires_the_store_scope_and_documents_its_errors(app):
    assert undeclared_routes(app) == []
    operations = documented_operations(app)
    assert {(path.removeprefix(f"{PREFIX}/stores/{{store_id}}"), method.upper()) for path, method in operations} == {
        (route.replace("{sku}", "{sku}"), method) for method, route, _ in OPERATIONS
    }
    for (path, method), operation in operations.items():
        assert operation["x-scopes"] == ["store"], (method, path)
        assert operation["summary"], (method, path)
        assert {"401", "403", "404"} <= set(operation["responses"]), (method, path)
