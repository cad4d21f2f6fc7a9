"""Who may call the call-centre API (a channel credential with the `call-centre` scope), and what it
may see: reservations of channel call_centre only; another channel's (a web cart's hold) is
"not found", exactly as a reservation that does not exist."""

from __future__ import annotations

import pytest

from experience_apis.call_centre.routes import PREFIX
from shared.auth import undeclared_routes
from tests.support.experience import SKU, assert_problem, channel_client, count, documented_operations, reserve

RESERVATIONS = f"{PREFIX}/reservations"
HOLD = {"agent_id": "agent-17", "external_ref": "CASE-1", "lines": [{"sku": SKU, "location": "S001", "quantity": 1}]}
OPERATIONS = [
    ("GET", "/availability", None, {"sku": SKU}),
    ("GET", "/reservations", None, {"external_ref": "CASE-1"}),
    ("POST", "/reservations", HOLD, None),
    ("GET", "/reservations/{id}", None, None),
    ("POST", "/reservations/{id}/release", {}, None),
    ("POST", "/reservations/{id}/extend", {"ttl_seconds": 60}, None),
]


@pytest.fixture
def web_cart_hold(process):
    """A web cart's hold at S001, made by the web channel under the same reference an agent might use."""
    count(process, "S001", 10)
    return reserve(
        process, channel="web", external_ref="CASE-1", lines=[{"sku": SKU, "location": "S001", "quantity": 2}]
    )


def call(client, method: str, path: str, body, query, reservation_id: str = "0" * 32):
    return client.open(
        f"{PREFIX}{path.format(id=reservation_id)}",
        method=method,
        json=body,
        query_string=query,
        headers={"Idempotency-Key": "k-1"},
    )


@pytest.mark.parametrize("method, path", [("GET", ""), ("POST", "/release"), ("POST", "/extend")])
def test_another_channels_reservation_is_not_found_and_untouched(agent, process, web_cart_hold, method, path):
    body = {"ttl_seconds": 60} if path == "/extend" else ({} if path else None)
    before = process.get(f"/inventory/v1/reservations/{web_cart_hold['id']}").get_json()

    problem = assert_problem(
        agent.open(f"{RESERVATIONS}/{web_cart_hold['id']}{path}", method=method, json=body), 404, "unknown-reservation"
    )

    assert problem["detail"] == f"no reservation {web_cart_hold['id']}"  # as for an id that does not exist
    assert process.get(f"/inventory/v1/reservations/{web_cart_hold['id']}").get_json() == before


def test_look_up_by_reference_leaves_out_other_channels_reservations(agent, web_cart_hold):
    mine = agent.post(RESERVATIONS, json=HOLD, headers={"Idempotency-Key": "k-1"}).get_json()

    page = agent.get(RESERVATIONS, query_string={"external_ref": "CASE-1"}).get_json()

    assert [item["id"] for item in page["items"]] == [mine["id"]]


def test_an_unknown_reservation_is_404(agent):
    assert_problem(agent.get(f"{RESERVATIONS}/{'0' * 32}"), 404, "unknown-reservation")


def test_a_malformed_reservation_id_is_422(agent):
    problem = assert_problem(agent.get(f"{RESERVATIONS}/{'x' * 65}"), 422)

    assert "reservation_id" in problem["errors"]["path"]


@pytest.mark.parametrize("method, path, body, query", OPERATIONS)
def test_without_an_api_key_every_operation_is_401(app, method, path, body, query):
    response = call(app.test_client(), method, path, body, query)

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method, path, body, query", OPERATIONS)
@pytest.mark.parametrize(
    "client_id, kind, scopes, store_id, slug",
    [
        ("web-shop", "channel", ["web"], None, "insufficient-scope"),
        ("store-s001", "channel", ["store"], "S001", "insufficient-scope"),
        ("a-service", "service", ["service"], None, "forbidden-kind"),
    ],
)
def test_credentials_without_the_call_centre_scope_are_403(
    app, redis, process, method, path, body, query, client_id, kind, scopes, store_id, slug
):
    count(process, "S001", 10)
    client = channel_client(app, redis, client_id, scopes, kind=kind, store_id=store_id)

    assert_problem(call(client, method, path, body, query), 403, slug)
    assert process.get("/inventory/v1/reservations", query_string={"external_ref": "CASE-1"}).get_json()["items"] == []


def test_every_operation_requires_the_call_centre_scope_and_documents_its_errors(app):
    assert undeclared_routes(app) == []
    operations = documented_operations(app)
    assert {
        (path.removeprefix(PREFIX).replace("{reservation_id}", "{id}"), method.upper()) for path, method in operations
    } == {(path, method) for method, path, _, _ in OPERATIONS}
    for (path, method), operation in operations.items():
        assert operation["x-scopes"] == ["call-centre"], (method, path)
        assert operation["summary"], (method, path)
        assert {"401", "403"} <= set(operation["responses"]), (method, path)
    create = operations[(RESERVATIONS, "post")]
    assert {"400", "409", "422"} <= set(create["responses"])
    assert {"name": "Idempotency-Key", "in": "header", "required": True}.items() <= create["parameters"][0].items()
