"""What every API of the composed gateway answers at its edges (issue 13, the low list): a single-valued
query parameter given twice, a missing Idempotency-Key, the security headers on every answer, /metrics
behind an optional token, and invalid API keys throttled per source address (real Redis)."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from werkzeug.test import Client

from gateway import demo_data
from gateway.composition import create_gateway
from gateway.demo import create_demo_credentials, demo_settings
from gateway.settings import Settings

PROBLEM = "application/problem+json"


def demo_gateway(redis_server: str, database: int, **overrides):
    # a database of its own: the function-scoped `redis_url` fixture flushes database 0 between tests
    base = Settings(redis_url=redis_server.rsplit("/", 1)[0] + f"/{database}", log_level="WARNING")
    settings, _ = demo_settings(dataclasses.replace(base, **overrides))
    gateway = create_gateway(settings)
    gateway.process_app.extensions["redis"].flushdb()
    keys = create_demo_credentials(gateway.process_app.extensions["credentials"])
    demo_data.load(gateway.inventory, with_stock=False)
    return gateway, keys


@pytest.fixture(scope="module")
def edge_gateway(redis_server):
    gateway, keys = demo_gateway(redis_server, 10)
    yield gateway, keys
    gateway.close()


def call(gateway, keys, client_id: str, path: str, method: str = "GET", **kwargs):
    headers = {"Authorization": f"Bearer {keys[client_id]}", **kwargs.pop("headers", {})}
    return Client(gateway).open(path, method=method, headers=headers, **kwargs)


def assert_problem(answer, status: int, slug: str | None = None) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"] == PROBLEM
    problem = answer.get_json()
    assert {"type", "title", "status", "detail"} <= problem.keys() and problem["status"] == status
    if slug:
        assert problem["type"].endswith("/" + slug), problem
    return problem


@pytest.mark.parametrize(
    "client_id, path, parameter",
    [
        ("demo-operator", "/inventory/v1/availability?sku=MAT-1001&channel=web&channel=store", "channel"),
        ("demo-operator", "/inventory/v1/availability?sku=MAT-1001&location_group=WEB-SHIP&location_group=X", None),
        ("demo-operator", "/inventory/v1/reservations?location=S001&location=S002", "location"),
        ("demo-operator", "/inventory/v1/dead-letters?limit=5&limit=6", "limit"),
        ("demo-operator", "/sap/v1/stock?sku=MAT-1001&location=S001&location=S002", "location"),
        ("demo-web-shop", "/web/v1/availability?sku=MAT-1001&postal_code=10117&postal_code=80331", "postal_code"),
        ("demo-store-s001", "/store/v1/stores/S001/products/MAT-1001/nearby?limit=2&limit=3", "limit"),
        ("demo-store-s001", "/store/v1/stores/S001/pickups?limit=2&limit=3", "limit"),
        ("demo-call-centre", "/call-centre/v1/reservations?external_ref=CASE-1&limit=2&limit=3", "limit"),
    ],
)
def test_a_single_valued_query_parameter_given_twice_is_a_400_problem(edge_gateway, client_id, path, parameter):
    problem = assert_problem(call(*edge_gateway, client_id, path), 400, "query-parameter-repeated")
    parameter = parameter or re.findall(r"&(\w+)=[^&]*&\1=", path)[0]
    assert parameter in problem["errors"]["query"]


@pytest.mark.parametrize(
    "client_id, path",
    [
        ("demo-operator", "/inventory/v1/availability?sku=MAT-1001&sku=MAT-1002&include=incoming"),
        ("demo-web-shop", "/web/v1/availability?sku=MAT-1001&sku=MAT-1002"),
        ("demo-call-centre", "/call-centre/v1/availability?sku=MAT-1001&sku=MAT-1002"),
    ],
)
def test_a_repeated_list_parameter_is_still_read_as_documented(edge_gateway, client_id, path):
    answer = call(*edge_gateway, client_id, path)
    assert answer.status_code == 200, answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "client_id, path, body",
    [
        (
            "demo-operator",
            "/inventory/v1/reservations",
            {
                "channel": "web",
                "external_ref": "CART-1",
                "lines": [{"sku": "MAT-1001", "location": "S001", "quantity": 1}],
            },
        ),
        (
            "demo-web-shop",
            "/web/v1/carts/cart-1/holds",
            {"lines": [{"sku": "MAT-1001", "quantity": 1}], "fulfilment": "ship"},
        ),
        ("demo-web-shop", "/web/v1/carts/cart-1/checkout", {"order_id": "WEB-1"}),
        (
            "demo-call-centre",
            "/call-centre/v1/reservations",
            {
                "agent_id": "agent-1",
                "external_ref": "CASE-1",
                "lines": [{"sku": "MAT-1001", "location": "S001", "quantity": 1}],
            },
        ),
    ],
)
def test_a_write_without_its_required_idempotency_key_is_the_same_400_problem_everywhere(
    edge_gateway, client_id, path, body
):
    gateway, keys = edge_gateway
    assert_problem(call(gateway, keys, client_id, path, "POST", json=body), 400, "idempotency-key-missing")


@pytest.mark.parametrize("prefix", ["/inventory/v1", "/web/v1", "/call-centre/v1"])
def test_no_operation_documents_428_for_a_missing_idempotency_key(edge_gateway, prefix):
    gateway, _ = edge_gateway
    app = gateway.process_app if prefix == "/inventory/v1" else gateway.experience_apis[prefix]
    with app.app_context():
        document = app.extensions["api"].spec.to_dict()
    keyed = [
        operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        and any(p.get("name") == "Idempotency-Key" and p.get("required") for p in operation.get("parameters", []))
    ]
    assert keyed and all("400" in op["responses"] and "428" not in op["responses"] for op in keyed)


#: An answer of each kind from each app of the gateway: documents, errors, probes, metrics, the simulators.
ANSWERS = [
    ("demo-operator", "GET", "/inventory/v1/availability?sku=MAT-1001"),
    ("demo-operator", "GET", "/inventory/v1/nowhere"),
    ("demo-operator", "POST", "/inventory/v1/reservations"),
    (None, "GET", "/inventory/v1/availability?sku=MAT-1001"),
    (None, "GET", "/livez"),
    (None, "GET", "/metrics"),
    (None, "GET", "/openapi.json"),
    (None, "GET", "/docs"),
    (None, "GET", "/sap/v1/docs"),
    (None, "GET", "/web/v1/docs"),
    (None, "GET", "/web/v1/openapi.json"),
    ("demo-web-shop", "GET", "/web/v1/availability?sku=MAT-1001"),
    ("demo-store-s001", "GET", "/store/v1/stores/S002/products/MAT-1001"),
    ("demo-call-centre", "DELETE", "/call-centre/v1/availability"),
    ("demo-salesforce", "POST", "/salesforce/v1/oci/reservations"),
    ("demo-operator", "GET", "/sap/v1/stock?sku=MAT-1001"),
    (None, "GET", "/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV/"),
    (None, "POST", "/services/oauth2/token"),
]


@pytest.mark.parametrize("client_id, method, path", ANSWERS)
def test_every_answer_carries_the_security_headers(edge_gateway, client_id, method, path):
    gateway, keys = edge_gateway
    headers = {"Authorization": f"Bearer {keys[client_id]}"} if client_id else {}
    answer = Client(gateway).open(path, method=method, headers=headers)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    policy = dict(
        (directive.split(" ", 1) + [""])[:2] for directive in answer.headers["Content-Security-Policy"].split("; ")
    )
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-inline" not in policy.get("default-src", "")


@pytest.mark.parametrize("path", ["/docs", "/sap/v1/docs", "/salesforce/v1/docs", "/web/v1/docs", "/store/v1/docs"])
def test_docs_pages_load_swagger_ui_from_the_gateway_itself_with_no_inline_script(edge_gateway, path):
    gateway, _ = edge_gateway
    client = Client(gateway)
    page = client.get(path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert not re.search(r"cdn\.|jsdelivr|unpkg|https?://", html), html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert scripts and all('src="' in attributes and not body.strip() for attributes, body in scripts)
    assets = re.findall(r'(?:src|href)="([^"]+/static/[^"]+)"', html)
    assert len(assets) == 4  # the CSS, the bundle, the standalone preset, our initializer
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert answer.mimetype in ("application/javascript", "text/javascript", "text/css"), asset


@pytest.mark.parametrize(
    "client_id, path",
    [
        ("demo-operator", "/inventory/v1/events"),
        ("demo-salesforce", "/salesforce/v1/oci/reservations"),
        ("demo-web-shop", "/web/v1/carts/cart-1/holds"),
        ("demo-store-s001", "/store/v1/stores/S001/returns"),
        (None, "/sap/v1/business-events"),
    ],
)
def test_a_chunked_body_over_the_cap_is_a_413_problem(edge_gateway, client_id, path):
    gateway, keys = edge_gateway
    body = b'{"events": [' + b'{"event_id": "e"},' * (gateway.settings.max_body_bytes // 18) + b'{"event_id": "e"}]}'
    headers = {"Transfer-Encoding": "chunked", "Content-Type": "application/json", "Idempotency-Key": "k-413"}
    if client_id:
        headers["Authorization"] = f"Bearer {keys[client_id]}"
    answer = Client(gateway).post(
        path, input_stream=io.BytesIO(body), headers=headers, environ_overrides={"wsgi.input_terminated": True}
    )
    assert_problem(answer, 413)


@pytest.fixture(scope="module")
def guarded_gateway(redis_server):
    gateway, keys = demo_gateway(redis_server, 12, metrics_token="scrape-secret", auth_failure_limit="3/minute")
    yield gateway, keys
    gateway.close()


def test_metrics_are_open_without_a_metrics_token(edge_gateway):
    gateway, _ = edge_gateway
    assert Client(gateway).get("/metrics").status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-secret", "Basic c2NyYXBlLXNlY3JldA==", "scrape-secret"])
def test_with_a_metrics_token_metrics_want_it_as_a_bearer_token(guarded_gateway, authorization):
    gateway, _ = guarded_gateway
    answer = Client(gateway).get("/metrics", headers={"Authorization": authorization} if authorization else {})
    assert_problem(answer, 401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_with_a_metrics_token_metrics_answer_the_bearer_of_it(guarded_gateway):
    gateway, _ = guarded_gateway
    answer = Client(gateway).get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert answer.status_code == 200 and b"gateway_http_requests_total" in answer.get_data()


def test_invalid_keys_from_one_address_are_throttled_with_retry_after(guarded_gateway):
    gateway, keys = guarded_gateway
    client, path = Client(gateway), "/inventory/v1/availability?sku=MAT-1001"

    def from_address(address: str, api_key: str):
        return client.get(path, headers={"Authorization": f"Bearer {api_key}"}, environ_base={"REMOTE_ADDR": address})

    statuses = [from_address("192.0.2.7", f"igw_guess.{attempt}").status_code for attempt in range(3)]
    assert statuses == [401, 401, 401]
    throttled = from_address("192.0.2.7", "igw_guess.again")
    assert_problem(throttled, 429, "too-many-invalid-keys")
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    # another address is not held back, nor a valid key from the throttled one
    assert from_address("192.0.2.8", "igw_guess.other").status_code == 401
    assert from_address("192.0.2.7", keys["demo-operator"]).status_code == 200
