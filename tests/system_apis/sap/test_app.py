"""The SAP system API app: wiring in both deployment shapes and its generated OpenAPI document."""

from __future__ import annotations

import fakeredis
import pytest

from gateway.settings import Settings
from process_apis.inventory.app import create_app as create_process_app
from simulators.sap.app import create_app as create_simulator
from system_apis.sap.app import create_app
from tests.support.auth import service_client
from tests.system_apis.sap.support import make_settings

PATHS = {
    "/sap/v1/business-events",
    "/sap/v1/stock-sync",
    "/sap/v1/stock",
    "/sap/v1/material-documents/{year}/{number}/replay",
}


def _store():
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


def test_all_in_one_calls_the_apps_it_is_given_in_process():
    settings, redis = make_settings(), _store()
    app = create_app(
        settings, redis=redis, process_app=create_process_app(settings, redis), sap_app=create_simulator(settings)
    )
    sap = app.extensions["sap"]
    assert sap.sap.in_process and sap.inventory.tier.base_url == "http://in-process"
    client = service_client(app)
    assert client.get("/sap/v1/stock", query_string={"sku": "MAT-1"}).status_code == 200


@pytest.mark.parametrize(
    "missing, setting",
    [
        ({"sap_base_url": None}, "SAP_BASE_URL is not set"),
        ({"process_api_url": None}, "INVENTORY_PROCESS_URL is not set"),
    ],
)
def test_without_a_url_or_an_app_it_does_not_start_and_names_the_setting(missing, setting):
    urls = {"sap_base_url": "https://s4.example.com/sap/opu/odata/sap", "process_api_url": "http://inventory-process"}
    with pytest.raises(ValueError, match=setting):
        create_app(make_settings(**{**urls, **missing}), redis=_store())


def test_split_shape_uses_the_configured_urls():
    settings = make_settings(
        sap_base_url="https://s4.example.com/sap/opu/odata/sap/", process_api_url="http://inventory-process:8080"
    )
    sap = create_app(settings, redis=_store()).extensions["sap"]
    assert sap.sap.base_url == "https://s4.example.com/sap/opu/odata/sap"
    assert sap.sap.session.auth == (settings.sap_user, settings.sap_password)
    assert sap.inventory.tier.base_url == "http://inventory-process:8080"


def test_openapi_document_covers_every_endpoint():
    app = create_app(make_settings(sap_base_url="http://sap", process_api_url="http://process"), redis=_store())
    client = service_client(app)
    document = client.get("/sap/v1/openapi.json").get_json()
    assert set(document["paths"]) == PATHS
    assert client.get("/sap/v1/docs").status_code == 200
    assert (
        "application/cloudevents+json" in document["paths"]["/sap/v1/business-events"]["post"]["requestBody"]["content"]
    )


def test_missing_location_map_still_starts_and_warns(caplog):
    create_app(Settings(sap_base_url="http://sap", process_api_url="http://process"), redis=_store())
    assert any("SAP_LOCATION_MAP is not set" in record.getMessage() for record in caplog.records)


def test_a_broken_location_map_stops_start_up():
    with pytest.raises(ValueError):
        create_app(
            make_settings(sap_location_map="{oops", sap_base_url="http://sap", process_api_url="http://p"),
            redis=_store(),
        )
