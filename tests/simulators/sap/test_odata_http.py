"""The OData wire contract with plain requests: auth, CSRF, errors, $count, faults, admin API."""

from __future__ import annotations

import time
from base64 import b64encode
from datetime import UTC, datetime

import pytest
import requests

from simulators.sap.app import create_app
from simulators.sap.faults import FaultSettings
from simulators.sap.system import SimulatorOptions
from tests.simulators.sap.support import (
    DOCUMENT_SRV,
    FAST_DELIVERY,
    ODATA,
    PASSWORD,
    STOCK_SRV,
    USER,
    make_settings,
    small_landscape,
)

RECEIPT = {
    "GoodsMovementCode": "01",
    "to_MaterialDocumentItem": [
        {
            "GoodsMovementType": "101",
            "Material": "MAT-1002",
            "Plant": "1010",
            "StorageLocation": "0001",
            "QuantityInEntryUnit": "5",
        }
    ],
}


def assert_sap_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["message"]["lang"] == "en" and error["message"]["value"]
    assert {"transactionid", "timestamp", "errordetails"} <= set(error["innererror"])
    return error


def test_every_request_needs_the_communication_user(simulator):
    for auth in (None, (USER, "wrong"), ("SOMEONE", PASSWORD)):
        response = requests.get(f"{simulator.service(STOCK_SRV)}/A_MaterialStock", auth=auth)
        assert_sap_error(response, 401)
        assert response.headers["WWW-Authenticate"] == 'Basic realm="SAP NetWeaver Application Server"'
    assert requests.get(f"{simulator.url}/sap-sim/admin/stock").status_code == 401


def test_a_write_without_a_csrf_token_is_403_required(simulator):
    session = simulator.session()
    response = session.post(f"{simulator.service(DOCUMENT_SRV)}/A_MaterialDocumentHeader", json=RECEIPT)
    assert_sap_error(response, 403)
    assert response.headers["X-CSRF-Token"] == "Required"
    token = session.get(f"{simulator.service(DOCUMENT_SRV)}/", headers={"X-CSRF-Token": "Fetch"}).headers[
        "X-CSRF-Token"
    ]
    cookie_name = simulator.system.csrf.cookie_name
    assert cookie_name.startswith("SAP_SESSIONID_") and cookie_name in session.cookies
    without_cookie = requests.post(
        f"{simulator.service(DOCUMENT_SRV)}/A_MaterialDocumentHeader",
        json=RECEIPT,
        auth=(USER, PASSWORD),
        headers={"X-CSRF-Token": token},
    )
    assert without_cookie.status_code == 403
    assert simulator.system.stock.documents() == []
    created = session.post(
        f"{simulator.service(DOCUMENT_SRV)}/A_MaterialDocumentHeader", json=RECEIPT, headers={"X-CSRF-Token": token}
    )
    assert created.status_code == 201
    year = created.json()["d"]["MaterialDocumentYear"]
    assert created.headers["Location"] == (
        f"{simulator.service(DOCUMENT_SRV)}/A_MaterialDocumentHeader("
        f"MaterialDocumentYear='{year}',MaterialDocument='4900000000')"
    )
    item = created.json()["d"]["to_MaterialDocumentItem"]["results"][0]
    assert item["QuantityInBaseUnit"] == "5.000" and item["__metadata"]["type"].endswith("A_MaterialDocumentItemType")


def test_a_rejected_posting_is_an_sap_400_and_posts_nothing(simulator):
    session = simulator.session()
    token = session.head(f"{simulator.service(DOCUMENT_SRV)}/", headers={"X-CSRF-Token": "fetch"}).headers[
        "X-CSRF-Token"
    ]
    body = {**RECEIPT, "to_MaterialDocumentItem": [{**RECEIPT["to_MaterialDocumentItem"][0], "Material": "NOPE"}]}
    response = session.post(
        f"{simulator.service(DOCUMENT_SRV)}/A_MaterialDocumentHeader", json=body, headers={"X-CSRF-Token": token}
    )
    error = assert_sap_error(response, 400)
    assert error["code"] == "M7/001" and "NOPE" in error["innererror"]["errordetails"][0]["message"]
    assert simulator.system.stock.documents() == []


def test_count_segment_and_collections_of_a_navigation(simulator):
    session = simulator.session()
    stock = simulator.service(STOCK_SRV)
    count = session.get(f"{stock}/A_MatlStkInAcctMod/$count", params={"$filter": "Material eq 'MAT-1001'"})
    assert count.status_code == 200 and count.text == "3" and count.headers["Content-Type"].startswith("text/plain")
    assert session.get(f"{stock}/A_MaterialStock('MAT-1001')/to_MatlStkInAcctMod/$count").text == "3"
    body = session.get(
        f"{stock}/A_MaterialStock", params={"$format": "json", "$inlinecount": "allpages", "$select": "Material"}
    ).json()["d"]
    assert body["__count"] == "3" and body["results"][0] == {
        "__metadata": body["results"][0]["__metadata"],
        "Material": "MAT-1001",
    }


def test_document_reads_expand_items_and_use_the_simulators_clock():
    app = create_app(make_settings(), clock=lambda: datetime(2026, 3, 2, 10, 15, 7, tzinfo=UTC))
    small_landscape(app.extensions["sap_system"])
    year, number = app.extensions["sap_system"].post_document(RECEIPT, RECEIPT["to_MaterialDocumentItem"]).key
    client, auth = app.test_client(), {"Authorization": "Basic " + b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    header = client.get(
        f"{ODATA}/{DOCUMENT_SRV}/A_MaterialDocumentHeader(MaterialDocumentYear='{year}',"
        f"MaterialDocument='{number}')?$expand=to_MaterialDocumentItem"
        "&$select=MaterialDocument,CreationDate,CreationTime,PostingDate,to_MaterialDocumentItem",
        headers=auth,
    ).get_json()["d"]
    assert year == "2026" and header["CreationTime"] == "PT10H15M07S"
    assert header["CreationDate"] == header["PostingDate"] == "/Date(1772409600000)/"
    assert "GoodsMovementCode" not in header
    assert header["to_MaterialDocumentItem"]["results"][0]["GoodsMovementType"] == "101"
    listed = client.get(
        f"{ODATA}/{DOCUMENT_SRV}/A_MaterialDocumentHeader?$filter=PostingDate ge "
        "datetime'2026-03-02T00:00:00'&$expand=to_MaterialDocumentItem",
        headers=auth,
    ).get_json()
    assert [h["MaterialDocument"] for h in listed["d"]["results"]] == [number]
    app.extensions["sap_system"].close()


def test_documents_read_by_their_keys_answer_as_a_scan_would(simulator):
    session, documents = simulator.session(), f"{simulator.service(DOCUMENT_SRV)}/A_MaterialDocumentHeader"
    posted = [simulator.system.post_document(RECEIPT, RECEIPT["to_MaterialDocumentItem"]).key for _ in range(4)]
    (year, first), (_, second), (_, third) = posted[0], posted[1], posted[3]
    by_keys = (
        f"MaterialDocumentYear eq '{year}' and (MaterialDocument eq '{third}' or MaterialDocument eq "
        f"'{first}' or MaterialDocument eq '0000000000')"
    )
    scanned = f"({by_keys}) or GoodsMovementCode eq 'none'"  # the same selection, every row tested
    answers = [
        session.get(
            documents,
            params={
                "$format": "json",
                "$filter": expression,
                "$inlinecount": "allpages",
                "$expand": "to_MaterialDocumentItem",
            },
        ).json()["d"]
        for expression in (by_keys, scanned)
    ]
    assert answers[0] == answers[1]
    assert answers[0]["__count"] == "2"
    assert [h["MaterialDocument"] for h in answers[0]["results"]] == [first, third]
    assert answers[0]["results"][1]["to_MaterialDocumentItem"]["results"][0]["Material"] == "MAT-1002"
    assert simulator.system.rows("A_MaterialDocumentHeader", keys=[(year, second)]) == [
        simulator.system.find("A_MaterialDocumentHeader", {"MaterialDocumentYear": year, "MaterialDocument": second})
    ]


def test_requests_can_follow_next_links_too(simulator):
    session = simulator.session()
    url, rows = f"{simulator.service(STOCK_SRV)}/A_MatlStkInAcctMod?$filter=MatlWrhsStkQtyInMatlBaseUnit ge 0", []
    while url:
        body = session.get(url).json()["d"]
        rows += body["results"]
        url = body.get("__next")
    assert len(rows) == 5


@pytest.mark.parametrize(
    "path, status",
    [
        ("A_Nothing", 404),
        ("A_MaterialStock('NOPE')", 404),
        ("A_MatlStkInAcctMod?$filter=Plant eq 1010", 400),
        ("A_MatlStkInAcctMod?$orderby=Plant up", 400),
        ("A_MaterialStock('MAT-1001')/to_Nothing", 404),
    ],
)
def test_bad_reads_are_sap_errors(simulator, path, status):
    assert_sap_error(simulator.session().get(f"{simulator.service(STOCK_SRV)}/{path}"), status)


def test_unknown_service_and_unsupported_methods(simulator):
    session = simulator.session()
    assert_sap_error(session.get(f"{simulator.url}/sap/opu/odata/sap/API_NOTHING_SRV/$metadata"), 404)
    token = session.head(f"{simulator.service(STOCK_SRV)}/", headers={"X-CSRF-Token": "Fetch"}).headers["X-CSRF-Token"]
    response = session.delete(
        f"{simulator.service(STOCK_SRV)}/A_MaterialStock('MAT-1001')", headers={"X-CSRF-Token": token}
    )
    assert_sap_error(response, 405)
    assert_sap_error(session.get(f"{simulator.service(DOCUMENT_SRV)}/Cancel"), 405)


def test_injected_errors_and_latency(simulator):
    session = simulator.session()
    url = f"{simulator.service(STOCK_SRV)}/A_MaterialStock"
    simulator.system.faults.update(error_rate=1.0)
    assert_sap_error(session.get(url), 503)
    simulator.system.faults.update(error_rate=0.0, latency_ms=150)
    started = time.monotonic()
    assert session.get(url).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_an_injected_timeout_outlasts_the_clients_timeout(simulator):
    simulator.system.faults.update(timeout_rate=1.0, timeout_seconds=0.5)
    with pytest.raises(requests.Timeout):
        simulator.session().get(f"{simulator.service(STOCK_SRV)}/A_MaterialStock", timeout=0.1)


class TestFaultsSetAtCreation:
    @pytest.fixture
    def simulator_options(self):
        return SimulatorOptions(page_size=4, delivery=FAST_DELIVERY, faults=FaultSettings(error_rate=0.5, seed=3))

    def test_faults_are_reproducible_from_their_seed(self, simulator):
        session = simulator.session()
        url = f"{simulator.service(STOCK_SRV)}/A_MaterialStock"
        first = [session.get(url).status_code for _ in range(12)]
        session.put(f"{simulator.url}/sap-sim/admin/faults", json={"seed": 3})
        assert [session.get(url).status_code for _ in range(12)] == first
        assert set(first) == {200, 503}

    def test_admin_faults_stock_and_reset(self, simulator):
        session, admin = simulator.session(), f"{simulator.url}/sap-sim/admin"
        assert session.get(f"{admin}/faults").json()["error_rate"] == 0.5
        invalid = session.put(f"{admin}/faults", json={"error_rate": 2})
        assert invalid.status_code == 400 and invalid.headers["Content-Type"] == "application/problem+json"
        assert session.put(f"{admin}/faults", json={"error_rate": 0, "latency_ms": 5}).json()["latency_ms"] == 5
        loaded = session.post(
            f"{admin}/stock",
            json={
                "materials": [{"material": "MAT-7", "base_unit": "EA", "conversions": {"KAR": 6}}],
                "storage_locations": ["1210/0001"],
                "stock": [
                    {
                        "material": "MAT-7",
                        "plant": "1210",
                        "storage_location": "0001",
                        "stock_type": "07",
                        "quantity": 2,
                    }
                ],
            },
        ).json()
        assert {
            "material": "MAT-7",
            "plant": "1210",
            "storage_location": "0001",
            "batch": "",
            "stock_type": "07",
            "quantity": 2,
            "unit": "EA",
        } in loaded["stock"]
        replaced = session.put(
            f"{admin}/stock",
            json={"stock": [{"material": "MAT-1", "plant": "1010", "storage_location": "0001", "quantity": 1}]},
        ).json()
        assert [(r["material"], r["quantity"]) for r in replaced["stock"]] == [("MAT-1", 1)]
        assert session.post(f"{admin}/stock", json={"stock": [{"material": "MAT-1"}]}).status_code == 400
        demo = session.post(f"{admin}/reset", json={"demo": True}).json()
        assert len(demo["stock"]) == 20 * 4 * 4 and "1110/0002" in demo["storage_locations"]
        assert session.get(f"{admin}/faults").json()["error_rate"] == 0.5  # back to the initial faults
