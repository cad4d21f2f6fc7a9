"""The Salesforce system API app: wiring in both deployment shapes and its OpenAPI document."""

from __future__ import annotations

import dataclasses

import fakeredis
import pytest

from process_apis.inventory.app import create_app as create_process_app
from simulators.salesforce.app import create_app as create_simulator
from system_apis.salesforce.app import create_app
from tests.support.auth import service_client
from tests.system_apis.salesforce.support import make_settings

PATHS = {
    "/salesforce/v1/availability",
    "/salesforce/v1/oci/availability",
    "/salesforce/v1/oci/reservations",
    "/salesforce/v1/oci/releases",
    "/salesforce/v1/oci/fulfillments",
    "/salesforce/v1/oci/transfers",
}


OUTCOME = {
    "sku": "MAT-1",
    "location": "S1",
    "channel": "web",
    "available_to_sell": 1,
    "available_to_order": 1,
    "status": "in_stock",
    "as_of": "2026-11-26T10:00:00Z",
}


def _store():
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


def test_all_in_one_calls_the_apps_it_is_given_in_process():
    settings, redis = make_settings(), _store()
    app = create_app(
        settings,
        redis=redis,
        process_app=create_process_app(settings, redis),
        salesforce_app=create_simulator(settings),
    )
    system = app.extensions["salesforce"]
    assert system.salesforce.in_process and system.inventory.tier.base_url == "http://in-process"
    answer = service_client(app).post("/salesforce/v1/availability", json={"outcomes": [OUTCOME]})
    assert answer.status_code == 200 and answer.get_json()["written"] == 1


@pytest.mark.parametrize(
    "missing, setting",
    [
        ({"salesforce_base_url": None}, "SALESFORCE_BASE_URL is not set"),
        ({"process_api_url": None}, "INVENTORY_PROCESS_URL is not set"),
    ],
)
def test_without_a_url_or_an_app_it_does_not_start_and_names_the_setting(missing, setting):
    urls = {"salesforce_base_url": "https://acme.my.salesforce.com", "process_api_url": "http://inventory-process"}
    with pytest.raises(ValueError, match=setting):
        create_app(make_settings(**{**urls, **missing}), redis=_store())


def test_split_shape_uses_the_configured_urls():
    settings = make_settings(
        salesforce_base_url="https://acme.my.salesforce.com/", process_api_url="http://inventory-process:8080"
    )
    system = create_app(settings, redis=_store()).extensions["salesforce"]
    assert not system.salesforce.in_process and system.salesforce.login_url == "https://acme.my.salesforce.com"
    assert system.inventory.tier.base_url == "http://inventory-process:8080"


def test_salesforce_unreachable_is_a_503_problem():
    settings = make_settings(
        salesforce_base_url="http://127.0.0.1:9",
        process_api_url="http://process.invalid",
        upstream_connect_timeout_seconds=0.5,
    )
    app = create_app(settings, redis=_store())
    answer = service_client(app).post(
        "/salesforce/v1/availability",
        json={
            "outcomes": [
                {
                    "sku": "MAT-1",
                    "location_group": "WEB",
                    "channel": "web",
                    "available_to_sell": 1,
                    "available_to_order": 1,
                    "status": "in_stock",
                    "as_of": "2026-11-26T10:00:00Z",
                }
            ]
        },
    )
    assert answer.status_code == 503 and answer.content_type == "application/problem+json"
    assert answer.headers["Retry-After"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"salesforce_client_id": None}, "SALESFORCE_CLIENT_ID is not set"),
        ({"salesforce_auth_flow": "jwt_bearer"}, "needs SALESFORCE_JWT_PRIVATE_KEY"),
    ],
)
def test_missing_credentials_start_but_every_call_names_the_missing_setting(changes, message):
    settings = dataclasses.replace(
        make_settings(salesforce_base_url="http://127.0.0.1:9", process_api_url="http://process.invalid"), **changes
    )
    app = create_app(settings, redis=_store())
    for _ in range(7):  # a configuration error, not an outage: it never opens the circuit
        answer = service_client(app).post("/salesforce/v1/availability", json={"outcomes": [OUTCOME]})
        assert answer.status_code == 502 and message in answer.get_json()["detail"]


def test_openapi_document_covers_every_endpoint():
    app = create_app(make_settings(salesforce_base_url="http://sf", process_api_url="http://process"), redis=_store())
    document = service_client(app).get("/salesforce/v1/openapi.json").get_json()
    assert set(document["paths"]) == PATHS
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path}"
            assert any(status.startswith(("4", "5")) or status == "default" for status in operation["responses"])
