"""Credentials and scopes on a small flask-smorest API built like every tier's, on a real redis-server."""

import json
import logging

import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from shared import auth
from shared.app import create_api_app
from shared.auth import TIER_KINDS, public, require_store, requires

PROBLEM = "application/problem+json"
CHALLENGE = 'Bearer realm="inventory-gateway"'


def stores_blueprint() -> Blueprint:
    blp = Blueprint("stores", __name__, url_prefix="/stores", description="A store's stock")

    @blp.route("/<store_id>/products/<sku>")
    class StoreProduct(MethodView):
        @requires("store", "call-centre")
        @blp.response(200)
        def get(self, store_id, sku):
            require_store(store_id)
            return {"store_id": store_id, "sku": sku, "client": auth.current_credential().client_id}

    @blp.route("/rules")
    class Rules(MethodView):
        @blp.response(200)
        @requires("inventory:admin")
        def get(self):
            return {"rules": []}

        @blp.response(201)
        def post(self):  # declares nothing: nobody may call it
            return {"created": True}

    @blp.route("/status")
    class Status(MethodView):
        @public
        @blp.response(200)
        def get(self):
            return {"status": "open"}

    return blp


def build_app(redis_url, settings_for, *, kinds=auth.KINDS):
    app = create_api_app(
        "auth_demo",
        title="Auth demo",
        version="1.0",
        settings=settings_for(redis_url),
        blueprints=[stores_blueprint()],
        auth_kinds=kinds,
    )
    return app, app.extensions["credentials"]


@pytest.fixture
def app_and_store(redis_url, settings_for):
    return build_app(redis_url, settings_for)


@pytest.fixture
def client(app_and_store):
    return app_and_store[0].test_client()


@pytest.fixture
def store(app_and_store):
    return app_and_store[1]


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    return body


# --- 401: who is calling -------------------------------------------------------------------


def test_request_without_a_key_is_401_with_a_bearer_challenge(client):
    response = client.get("/stores/S001/products/MAT-1")
    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert "Authorization: Bearer" in body["detail"]


@pytest.mark.parametrize("key", ["igw_web-shop.not-the-secret", "not-a-key", "igw_.x", "igw_a" + "b" * 200])
def test_request_with_a_bad_key_is_401_invalid_token(client, store, key):
    store.create("web-shop", kind="channel", scopes=["web"])
    response = client.get("/stores/S001/products/MAT-1", headers=bearer(key))
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == f'{CHALLENGE}, error="invalid_token"'


def test_revoked_key_is_401(client, store):
    _, key = store.create("store-s001", kind="channel", scopes=["store"], store_id="S001")
    assert client.get("/stores/S001/products/MAT-1", headers=bearer(key)).status_code == 200
    assert store.revoke("store-s001")
    assert_problem(client.get("/stores/S001/products/MAT-1", headers=bearer(key)), 401)


def test_key_disabled_in_redis_is_401(client, store, app_and_store):
    _, key = store.create("store-s001", kind="channel", scopes=["store"], store_id="S001")
    app_and_store[0].extensions["redis"].hset("auth:client:{store-s001}", "disabled", "1")
    assert_problem(client.get("/stores/S001/products/MAT-1", headers=bearer(key)), 401)


def test_rotated_key_replaces_the_old_one(client, store):
    _, old = store.create("store-s001", kind="channel", scopes=["store"], store_id="S001")
    _, new = store.create("store-s001", kind="channel", scopes=["store"], store_id="S001", rotate=True)
    assert_problem(client.get("/stores/S001/products/MAT-1", headers=bearer(old)), 401)
    assert client.get("/stores/S001/products/MAT-1", headers=bearer(new)).status_code == 200


def test_x_api_key_header_is_accepted_too(client, store):
    _, key = store.create("agent-7", kind="channel", scopes=["call-centre"])
    response = client.get("/stores/S002/products/MAT-1", headers={"X-API-Key": key})
    assert response.status_code == 200
    assert response.get_json()["client"] == "agent-7"


# --- 403: what the caller may do ------------------------------------------------------------


def test_key_without_the_scope_is_403_naming_it(client, store):
    _, key = store.create("web-shop", kind="channel", scopes=["web"])
    body = assert_problem(client.get("/stores/S001/products/MAT-1", headers=bearer(key)), 403)
    assert body["required_scopes"] == ["store", "call-centre"]
    assert "store or call-centre" in body["detail"]
    assert body["type"].endswith("/insufficient-scope")


def test_service_scope_grants_every_tier_scope_but_no_channel_scope(client, store):
    _, key = store.create("experience-tier", kind="service", scopes=["service"])
    assert client.get("/stores/rules", headers=bearer(key)).status_code == 200
    assert_problem(client.get("/stores/S001/products/MAT-1", headers=bearer(key)), 403)


def test_channel_key_given_a_tier_scope_by_hand_is_still_refused(client, store, app_and_store):
    _, key = store.create("web-shop", kind="channel", scopes=["web"])
    # Someone edits Redis directly: the kind still forbids the scopes.
    app_and_store[0].extensions["redis"].hset("auth:client:{web-shop}", "scopes", "web service inventory:admin")
    body = assert_problem(client.get("/stores/rules", headers=bearer(key)), 403)
    assert body["type"].endswith("/insufficient-scope")


def test_tier_api_refuses_channel_kind_whatever_its_scopes(redis_url, settings_for):
    app, store = build_app(redis_url, settings_for, kinds=TIER_KINDS)
    _, key = store.create("agent-7", kind="channel", scopes=["call-centre"])
    body = assert_problem(app.test_client().get("/stores/S001/products/MAT-1", headers=bearer(key)), 403)
    assert body["type"].endswith("/forbidden-kind")


def test_store_associate_cannot_see_another_store(client, store):
    _, key = store.create("store-s001", kind="channel", scopes=["store"], store_id="S001")
    assert client.get("/stores/S001/products/MAT-1", headers=bearer(key)).status_code == 200
    body = assert_problem(client.get("/stores/S002/products/MAT-1", headers=bearer(key)), 403)
    assert "S001" in body["detail"] and "S002" in body["detail"]


def test_call_centre_key_is_not_bound_to_a_store(client, store):
    _, key = store.create("agent-7", kind="channel", scopes=["call-centre"])
    assert client.get("/stores/S002/products/MAT-1", headers=bearer(key)).status_code == 200


def test_view_without_a_declaration_is_denied_even_to_a_service(client, store):
    _, key = store.create("experience-tier", kind="service", scopes=["service"])
    assert_problem(client.post("/stores/rules", headers=bearer(key)), 403)
    assert_problem(client.post("/stores/rules"), 401)


def test_undeclared_routes_lists_exactly_the_undeclared_view(app_and_store):
    assert auth.undeclared_routes(app_and_store[0]) == ["POST /stores/rules"]


# --- open endpoints -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/livez", "/readyz", "/metrics", "/openapi.json", "/docs", "/stores/status"])
def test_probes_metrics_docs_and_public_views_need_no_key(client, path):
    assert client.get(path).status_code == 200


def test_unknown_path_stays_a_404(client):
    assert_problem(client.get("/nowhere"), 404)


def test_automatic_options_needs_no_key(client):
    response = client.options("/stores/rules")
    assert response.status_code == 200
    assert "GET" in response.headers["Allow"]


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_document_has_the_scheme_and_each_operation_its_security(client):
    document = client.get("/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "igw_<client_id>.<secret>",
        "description": document["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    product = document["paths"]["/stores/{store_id}/products/{sku}"]["get"]
    assert product["security"] == [{"ApiKey": []}]
    assert product["x-scopes"] == ["store", "call-centre"]
    for status, name in (("401", "UNAUTHORIZED"), ("403", "FORBIDDEN"), ("429", "TOO_MANY_REQUESTS")):
        assert product["responses"][status] == {"$ref": f"#/components/responses/{name}"}
        content = document["components"]["responses"][name]["content"]
        assert list(content) == [PROBLEM]
    assert "200" in product["responses"]
    rules = document["paths"]["/stores/rules"]
    assert rules["get"]["security"] == [{"ApiKey": []}]
    assert "security" not in rules["post"]
    assert "security" not in document["paths"]["/stores/status"]["get"]


# --- secrets never logged -------------------------------------------------------------------


def test_keys_never_appear_in_the_logs(client, store, capfd):
    _, key = store.create("store-s001", kind="channel", scopes=["store"], store_id="S001")
    secret = key.partition(".")[2]
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        client.get("/stores/S001/products/MAT-1", headers=bearer(key))
        client.get("/stores/S002/products/MAT-1", headers={"X-API-Key": key})
        client.get("/stores/S001/products/MAT-1", headers=bearer(key[:-2] + "xy"))
    finally:
        logging.getLogger().setLevel(logging.INFO)
    logged = capfd.readouterr().err
    access = [json.loads(line) for line in logged.splitlines() if '"gateway.access"' in line]
    assert [entry["status"] for entry in access] == [200, 403, 401]
    assert secret not in logged and secret[:12] not in logged
