"""The all-in-one gateway: which app answers which path, what runs inside it, and demo settings."""

from __future__ import annotations

import base64
import html
import json
import re

import fakeredis
import pytest
from werkzeug.test import Client

from gateway.banner import banner
from gateway.composition import PrefixDispatcher, create_gateway, single_process_reasons
from gateway.demo import demo_settings
from gateway.settings import Settings
from simulators.sap.seed import DEMO_LOCATION_MAP
from tests.support.auth import KeyedWsgiClient

USER, PASSWORD = "COMPOSE_USER", "compose-password"
SAP = dict(
    sap_user=USER,
    sap_password=PASSWORD,
    sap_webhook_secret="compose-secret",
    sap_location_map=json.dumps(DEMO_LOCATION_MAP),
)
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


def _store():
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


@pytest.fixture
def gateway():
    gateway = create_gateway(Settings(log_level="WARNING", **SAP), redis=_store())
    yield gateway
    gateway.close()


def test_each_prefix_reaches_its_api_with_the_path_unchanged(gateway):
    client = _client(gateway)
    assert client.get("/inventory/v1/availability", query_string={"sku": "MAT-1001"}).status_code == 200
    assert client.get("/livez").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    assert "gateway_http_requests_total" in client.get("/metrics").get_data(as_text=True)
    assert "/inventory/v1/events" in client.get("/openapi.json").get_json()["paths"]
    sap_document = client.get("/sap/v1/openapi.json").get_json()
    assert "/sap/v1/business-events" in sap_document["paths"] and "/inventory/v1/events" not in sap_document["paths"]
    assert client.get("/sap/v1/docs").status_code == 200 and client.get("/docs").status_code == 200
    assert client.get("/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV/$metadata", headers=BASIC).status_code == 200
    assert client.get("/sap-sim/admin/faults", headers=BASIC).status_code == 200
    assert client.get("/sap/v1/stock", query_string={"sku": "MAT-1001"}).status_code == 200


def test_docs_lists_every_api_of_the_gateway_each_document_served_under_its_prefix(gateway):
    client = Client(gateway)  # no credentials: the documents are public
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-initializer.js" in page.get_data(as_text=True)
    listed = json.loads(html.unescape(re.search(r'data-urls="([^"]*)"', page.get_data(as_text=True)).group(1)))
    assert [api["url"] for api in listed] == [
        "/web/v1/openapi.json",
        "/store/v1/openapi.json",
        "/call-centre/v1/openapi.json",
        "/sap/v1/openapi.json",
        "/openapi.json",
    ]
    for api in listed:
        document = client.get(api["url"]).get_json()
        assert document["info"]["title"] == api["name"]
        assert all(
            path.startswith(api["url"].removesuffix("openapi.json")) or api["url"] == "/openapi.json"
            for path in document["paths"]
        )


def test_the_simulator_pushes_business_events_to_the_webhook_in_process(gateway):
    from gateway import demo_data

    demo_data.load(gateway.inventory, with_stock=False)
    sap = gateway.sap_system
    sap.stock.add_material("MAT-1001")
    sap.stock.add_storage_location("1110", "0001")
    sap.post_document(
        {"GoodsMovementCode": "05"},
        [
            {
                "GoodsMovementType": "101",
                "Material": "MAT-1001",
                "Plant": "1110",
                "StorageLocation": "0001",
                "QuantityInEntryUnit": "7",
            }
        ],
    )
    assert sap.flush(10)
    assert [s.url for s in sap.events.subscriptions()] == ["http://in-process/sap/v1/business-events"]
    assert sap.events.stats()["delivered"] == 1
    positions = _client(gateway).get("/inventory/v1/availability", query_string={"sku": "MAT-1001"}).get_json()
    assert [(p["location"], p["on_hand"]) for p in positions["positions"]] == [("S001", 7)]


def test_with_sap_base_url_the_simulator_is_not_part_of_the_gateway():
    gateway = create_gateway(
        Settings(sap_base_url="http://s4.example.com/sap/opu/odata/sap", log_level="WARNING", **SAP), redis=_store()
    )
    client = _client(gateway)
    assert gateway.simulator is None and gateway.sap_api is not None
    assert client.get("/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV/$metadata", headers=BASIC).status_code == 404
    assert client.get("/sap/v1/openapi.json").status_code == 200


def test_without_sap_credentials_the_gateway_serves_the_process_api_alone(caplog):
    gateway = create_gateway(Settings(log_level="WARNING"), redis=_store())
    client = _client(gateway)
    assert gateway.sap_api is None and gateway.simulator is None
    assert client.get("/sap/v1/stock", query_string={"sku": "X"}).status_code == 404
    assert client.get("/inventory/v1/availability", query_string={"sku": "X"}).status_code == 200
    assert any("serving without the SAP system API" in r.getMessage() for r in caplog.records)


def test_longest_prefix_wins_and_a_prefix_matches_whole_segments_only():
    dispatcher = PrefixDispatcher("default", {"/sap": "short", "/sap/v1": "long"})
    assert dispatcher.app_for("/sap/v1/stock") == "long"
    assert dispatcher.app_for("/sap/v1") == "long"
    assert dispatcher.app_for("/sap/v10/stock") == "short"
    assert dispatcher.app_for("/sapling") == "default"


def test_demo_settings_make_up_credentials_for_each_run_and_keep_given_ones():
    first, generated = demo_settings(Settings())
    second, _ = demo_settings(Settings())
    assert generated.user and generated.password and generated.webhook_secret and generated.location_map
    assert first.sap_password != second.sap_password and first.sap_webhook_secret != second.sap_webhook_secret
    assert len(first.sap_password) >= 20 and json.loads(first.sap_location_map) == DEMO_LOCATION_MAP
    given, generated = demo_settings(Settings(**SAP))
    assert (given.sap_user, given.sap_password) == (USER, PASSWORD) and not generated.password
    assert PASSWORD not in banner(given, "http://127.0.0.1:8080", generated)
    assert first.sap_password in banner(first, "http://127.0.0.1:8080", _)
    real, generated = demo_settings(Settings(sap_base_url="https://s4.example.com/sap/opu/odata/sap"))
    assert real.sap_password is None and not generated.password  # a real SAP's password is never made up


def test_demo_mode_makes_up_the_salesforce_simulators_secret_for_each_run_unless_one_is_given():
    """The secret opens the simulator's admin API (Basic, with the client id), so it is never a fixed one."""
    first, generated = demo_settings(Settings())
    second, _ = demo_settings(Settings())
    assert generated.salesforce_secret and len(first.salesforce_client_secret) >= 20
    assert first.salesforce_client_secret != second.salesforce_client_secret
    assert first.salesforce_client_secret in banner(first, "http://127.0.0.1:8080", generated)
    given, generated = demo_settings(Settings(salesforce_client_secret="sf-chosen-secret"))
    assert given.salesforce_client_secret == "sf-chosen-secret" and not generated.salesforce_secret
    shown = banner(given, "http://127.0.0.1:8080", generated)
    assert "sf-chosen-secret" not in shown and "(your SALESFORCE_CLIENT_SECRET)" in shown


def test_no_fixed_salesforce_secret_is_left_in_the_code():
    import gateway.demo

    assert not hasattr(gateway.demo, "DEMO_SALESFORCE_CLIENT_SECRET")


def test_one_process_is_forced_by_the_embedded_store_and_by_the_simulator():
    assert len(single_process_reasons(Settings(**SAP))) == 2
    assert len(single_process_reasons(Settings(redis_url="redis://r:6379/0", **SAP))) == 1
    assert single_process_reasons(Settings(redis_url="redis://r:6379/0", sap_base_url="https://s4/sap", **SAP)) == []


def _client(gateway):
    return KeyedWsgiClient(gateway)


def test_each_start_on_a_persistent_store_numbers_documents_past_the_earlier_starts(redis_url):
    from gateway import demo_data

    settings = Settings(redis_url=redis_url, log_level="WARNING", **SAP)
    seen = []
    for _ in range(2):  # two starts of the gateway, each with a fresh simulator, on the same Redis
        gateway = create_gateway(settings)
        demo_data.load(gateway.inventory, with_stock=False)
        sap = gateway.sap_system
        sap.stock.add_material("MAT-1001")
        sap.stock.add_storage_location("1110", "0001")
        document = sap.post_document(
            {"GoodsMovementCode": "05"},
            [
                {
                    "GoodsMovementType": "701",
                    "Material": "MAT-1001",
                    "Plant": "1110",
                    "StorageLocation": "0001",
                    "QuantityInEntryUnit": "3",
                }
            ],
        )
        assert sap.flush(10)
        seen.append(document.key)
        gateway.close()
    positions = _client(gateway).get("/inventory/v1/availability", query_string={"sku": "MAT-1001"}).get_json()
    assert seen[0] != seen[1]
    assert positions["positions"][0]["on_hand"] == 6  # the second start's document was not taken for a duplicate
