"""The shared app wiring, exercised through a tiny demo API on a real redis-server."""

import json
import logging
import re
import threading

import marshmallow as ma
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.app import create_api_app
from shared.auth import TIER_KINDS, requires
from shared.errors import Problem
from shared.idempotency import idempotent
from tests.support.auth import keyed_client, service_client
from tests.support.redis_servers import free_port

PROBLEM_TYPE = re.compile(r"https://inventory-gateway\.dev/problems/[a-z0-9-]+")


class WidgetSchema(ma.Schema):
    name = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))


class DemoViews:
    """Records every call that reached a view, and lets a test hold a request in flight."""

    def __init__(self):
        self.calls = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def blueprint(self):
        blp = Blueprint("widgets", __name__, url_prefix="/widgets", description="Demo widgets")
        views = self

        @blp.route("")
        class Widgets(MethodView):
            @requires("inventory:write")
            @blp.arguments(WidgetSchema)
            @idempotent()
            @blp.response(201, WidgetSchema)
            def post(self, widget):
                views.calls.append(widget)
                if widget["name"] == "hold":
                    views.entered.set()
                    views.release.wait(timeout=10)
                if widget["name"] == "unavailable":
                    raise Problem(503, "Backend down.")
                if widget["name"] == "duplicate":
                    raise Problem(409, "Widget exists.", type_slug="widget-exists")
                return widget, 201, {"Location": f"/widgets/{widget['name']}"}

        @blp.route("/boom")
        class Boom(MethodView):
            @requires("inventory:read")
            @blp.response(200)
            def get(self):
                raise RuntimeError("password=hunter2")

        return blp


@pytest.fixture
def demo():
    return DemoViews()


@pytest.fixture
def app(redis_url, settings_for, demo):
    settings = settings_for(redis_url, max_body_bytes=1024)
    return create_api_app(
        "demo_api",
        title="Demo API",
        version="1.0",
        settings=settings,
        blueprints=[demo.blueprint()],
        auth_kinds=TIER_KINDS,
    )


@pytest.fixture
def client(app):
    return service_client(app)


def post_widget(client, body, key="key-1", **headers):
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/widgets", json=body, headers=headers)


def assert_problem(response, status):
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.get_json(force=True)
    assert PROBLEM_TYPE.fullmatch(body["type"])
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "code" not in body and "message" not in body
    return body


# --- problem+json for every error ---------------------------------------------------------


def test_unknown_path_is_a_404_problem(client):
    body = assert_problem(client.get("/nope"), 404)
    assert body["type"].endswith("/not-found")


def test_wrong_method_is_a_405_problem_with_allow_header(client):
    response = client.get("/widgets")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_invalid_body_is_a_422_problem_with_field_errors(client):
    body = assert_problem(post_widget(client, {"name": "w", "quantity": 0}), 422)
    assert body["errors"] == {"json": {"quantity": ["Must be greater than or equal to 1."]}}


def test_malformed_json_is_a_400_problem(client):
    response = client.post(
        "/widgets", data="{not json", content_type="application/json", headers={"Idempotency-Key": "k"}
    )
    body = assert_problem(response, 400)
    assert body["errors"] == {"json": ["Invalid JSON body."]}


def test_body_over_the_size_limit_is_a_413_problem(client):
    response = post_widget(client, {"name": "x" * 2000, "quantity": 1})
    assert_problem(response, 413)


def test_unhandled_exception_is_a_generic_500_problem_and_logged_with_stack(client, caplog):
    with caplog.at_level(logging.ERROR, logger="shared.errors"):
        response = client.get("/widgets/boom")

    body = assert_problem(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)
    assert "Traceback" not in body["detail"]
    [record] = [r for r in caplog.records if r.name == "shared.errors"]
    assert record.exc_info and record.exc_info[0] is RuntimeError


def test_problem_raised_by_a_view_keeps_its_type_and_status(client):
    body = assert_problem(post_widget(client, {"name": "duplicate", "quantity": 1}), 409)
    assert body["type"].endswith("/widget-exists")
    assert body["detail"] == "Widget exists."


# --- correlation id, probes, metrics, OpenAPI ---------------------------------------------


def test_correlation_id_is_echoed_when_given(client):
    response = client.get("/livez", headers={"X-Correlation-ID": "order-42:retry.1"})
    assert response.headers["X-Correlation-ID"] == "order-42:retry.1"


@pytest.mark.parametrize("given", [None, "has spaces", "x" * 129])
def test_correlation_id_is_generated_when_absent_or_invalid(client, given):
    headers = {"X-Correlation-ID": given} if given else {}
    response = client.get("/livez", headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Correlation-ID"])


def test_error_responses_carry_the_correlation_id(client):
    response = client.get("/nope", headers={"X-Correlation-ID": "abc"})
    assert response.headers["X-Correlation-ID"] == "abc"


def test_livez_answers_ok(client):
    response = client.get("/livez")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_is_ready_when_redis_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"redis": "ok"}}


def test_readyz_is_a_503_problem_when_redis_is_unreachable(settings_for):
    settings = settings_for(f"redis://127.0.0.1:{free_port()}/0", redis_timeout_seconds=0.5)
    app = create_api_app("down_api", title="Down", version="1", settings=settings, blueprints=[], auth_kinds=TIER_KINDS)

    body = assert_problem(service_client(app).get("/readyz"), 503)
    assert body["checks"] == {"redis": "unreachable"}


def test_metrics_count_requests_by_url_rule(client):
    client.get("/livez")
    client.get("/nope")

    text = client.get("/metrics").get_data(as_text=True)
    assert re.search(
        r'gateway_http_requests_total\{api="demo_api",endpoint="/livez",method="GET",status="200"\} '
        r"[1-9]",
        text,
    )
    assert 'endpoint="<unmatched>"' in text
    assert "gateway_http_request_duration_seconds_bucket" in text


def test_creating_many_apps_registers_metrics_once(redis_url, settings_for, demo):
    for _ in range(3):
        create_api_app(
            "again",
            title="Again",
            version="1",
            settings=settings_for(redis_url),
            blueprints=[demo.blueprint()],
            auth_kinds=TIER_KINDS,
        )


def test_openapi_documents_api_routes_with_problem_errors(client):
    spec = client.get("/openapi.json").get_json()

    assert spec["openapi"] == "3.0.3"
    assert "/widgets" in spec["paths"]
    assert not {"/livez", "/readyz", "/metrics"} & set(spec["paths"])
    post = spec["paths"]["/widgets"]["post"]
    assert any(p["in"] == "header" and p["name"] == "Idempotency-Key" and p["required"] for p in post["parameters"])
    assert set(post["responses"]) >= {"201", "400", "409", "422", "default"}
    error = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]
    assert error["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_swagger_ui_is_served(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.get_data(as_text=True)


# --- Idempotency-Key ----------------------------------------------------------------------


def test_retry_with_same_key_and_body_replays_the_first_response(client, demo):
    first = post_widget(client, {"name": "w", "quantity": 2})
    again = post_widget(client, {"name": "w", "quantity": 2})

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() == {"name": "w", "quantity": 2}
    assert again.headers["Location"] == first.headers["Location"] == "/widgets/w"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(demo.calls) == 1


def test_quoted_structured_field_key_is_the_same_key(client, demo):
    post_widget(client, {"name": "w", "quantity": 2}, key="abc")
    again = post_widget(client, {"name": "w", "quantity": 2}, key='"abc"')
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(demo.calls) == 1


def test_same_key_with_a_different_body_is_a_422_problem(client, demo):
    post_widget(client, {"name": "w", "quantity": 2})
    body = assert_problem(post_widget(client, {"name": "w", "quantity": 3}), 422)

    assert body["type"].endswith("/idempotency-key-reused")
    assert len(demo.calls) == 1


def test_keys_are_scoped_per_authenticated_client(app, demo):
    store = app.extensions["credentials"]
    first, second = (
        keyed_client(app, store.create(name, kind="operator", scopes=["inventory:write"])[1])
        for name in ("ops-1", "ops-2")
    )
    post_widget(first, {"name": "w", "quantity": 1})
    other = post_widget(second, {"name": "w", "quantity": 1})
    again = post_widget(first, {"name": "w", "quantity": 1})

    assert "Idempotent-Replayed" not in other.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(demo.calls) == 2


def test_missing_key_is_a_400_problem_and_the_view_does_not_run(client, demo):
    body = assert_problem(post_widget(client, {"name": "w", "quantity": 1}, key=None), 400)
    assert "Idempotency-Key" in body["detail"]
    assert demo.calls == []


def test_overlong_key_is_a_400_problem(client, demo):
    assert_problem(post_widget(client, {"name": "w", "quantity": 1}, key="k" * 256), 400)
    assert demo.calls == []


def test_same_key_while_the_first_request_is_in_flight_is_a_409_problem(app, demo):
    first_response = []
    first = threading.Thread(
        target=lambda: first_response.append(post_widget(service_client(app), {"name": "hold", "quantity": 1}))
    )
    first.start()
    try:
        assert demo.entered.wait(timeout=10)
        concurrent = post_widget(service_client(app), {"name": "hold", "quantity": 1})
    finally:
        demo.release.set()
        first.join(timeout=10)

    body = assert_problem(concurrent, 409)
    assert body["type"].endswith("/idempotency-key-in-flight")
    assert first_response[0].status_code == 201
    assert post_widget(service_client(app), {"name": "hold", "quantity": 1}).headers["Idempotent-Replayed"] == "true"
    assert len(demo.calls) == 1


def test_in_flight_marker_in_redis_blocks_a_retry(app, client, demo):
    post_widget(client, {"name": "w", "quantity": 1}, key="other")  # learn the fingerprint format
    stored = json.loads(app.extensions["redis"].get("idem:{in-process:other}"))
    in_flight = {"state": "in_flight", "fingerprint": stored["fingerprint"], "token": "someone-else"}
    app.extensions["redis"].set("idem:{in-process:taken}", json.dumps(in_flight))

    assert_problem(post_widget(client, {"name": "w", "quantity": 1}, key="taken"), 409)
    assert len(demo.calls) == 1


def test_server_errors_are_not_stored_so_a_retry_runs_again(client, demo):
    assert_problem(post_widget(client, {"name": "unavailable", "quantity": 1}), 503)
    again = post_widget(client, {"name": "unavailable", "quantity": 1})

    assert_problem(again, 503)
    assert "Idempotent-Replayed" not in again.headers
    assert len(demo.calls) == 2


def test_client_errors_raised_by_the_view_are_stored_and_replayed(client, demo):
    post_widget(client, {"name": "duplicate", "quantity": 1})
    again = post_widget(client, {"name": "duplicate", "quantity": 1})

    assert_problem(again, 409)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(demo.calls) == 1


def test_stored_response_expires_after_the_configured_ttl(app, client):
    post_widget(client, {"name": "w", "quantity": 1})
    ttl = app.extensions["redis"].ttl("idem:{in-process:key-1}")
    assert 86400 - 5 <= ttl <= 86400
