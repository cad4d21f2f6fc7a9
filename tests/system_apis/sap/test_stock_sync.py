"""Stock sync and live stock reads against the SAP simulator: SAP's stock table becomes one
stock.counted per position, drift is reported, and the CLI does the same over HTTP."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.serving import make_server

from gateway.cli import main
from tests.support.auth import service_client
from tests.system_apis.sap.support import (
    LOCATION_MAP,
    make_settings,
    nonzero,
    positions,
    sap_positions,
    sap_system,
)


def _seed(simulator):
    stock = sap_system(simulator).stock
    stock.set_quantity("MAT-1", "1010", "0001", "01", 12)
    stock.set_quantity("MAT-1", "1010", "0001", "02", 3)
    stock.set_quantity("MAT-1", "1010", "0001", "07", 1)
    stock.set_quantity("MAT-1", "1010", "0001", "01", 5, batch="B2")  # a second batch adds up
    stock.set_quantity("MAT-1", "1010", "0009", "01", 4)
    stock.set_quantity("MAT-1", "2020", "0002", "06", 6)
    stock.set_quantity("MAT-2", "2020", "0002", "01", 9)
    stock.set_quantity("MAT-1", "3030", "0001", "01", 50)  # not mapped


def _send(process_app, *events):
    answer = service_client(process_app).post("/inventory/v1/events", json={"events": list(events)})
    assert answer.status_code == 200, answer.get_json()


def _received(event_id, location, quantity, sku="MAT-1", occurred_at="2026-01-01T00:00:00Z"):
    return {
        "event_id": event_id,
        "type": "stock.received",
        "sku": sku,
        "location": location,
        "quantity": quantity,
        "occurred_at": occurred_at,
        "source": "test",
    }


def test_sync_makes_every_position_equal_to_sap_and_reports_the_drift_before(gateway, simulator, process_app):
    _seed(simulator)
    _send(process_app, _received("e1", "S1", 10), _received("e2", "D2", 2, sku="MAT-2"))
    answer = service_client(gateway).post("/sap/v1/stock-sync", json={"report_drift": True})
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    assert report["records_read"] == 8
    assert report["positions"] == 4  # MAT-1 at S1, S3, D2; MAT-2 at D2
    assert report["events"] == {"sent": 4, "applied": 4, "duplicate": 0, "stale": 0, "dead_lettered": 0}
    assert report["unmapped"] == [{"plant": "3030", "storage_location": "0001", "records": 1}]
    assert report["skipped_records"] == {"unmapped_location": 1}
    drift = {
        (d["sku"], d["location"], d["stock_type"]): (d["sap"], d["gateway"], d["difference"]) for d in report["drift"]
    }
    assert drift == {
        ("MAT-1", "S1", "on_hand"): (17, 10, 7),
        ("MAT-1", "S1", "quality_inspection"): (3, 0, 3),
        ("MAT-1", "S1", "blocked"): (1, 0, 1),
        ("MAT-1", "S3", "on_hand"): (4, 0, 4),
        ("MAT-1", "D2", "in_transit"): (6, 0, 6),
        ("MAT-2", "D2", "on_hand"): (9, 2, 7),
    }
    for sku in ("MAT-1", "MAT-2"):
        assert nonzero(positions(process_app, sku)) == nonzero(sap_positions(simulator, sku))


def test_a_position_sap_no_longer_lists_is_counted_zero(gateway, simulator, process_app):
    _send(process_app, _received("e1", "S3", 7))
    sap_system(simulator).stock.set_quantity("MAT-1", "1010", "0001", "01", 2)
    report = service_client(gateway).post("/sap/v1/stock-sync", json={}).get_json()
    assert report["positions"] == 2
    assert positions(process_app)["S3"] == {"on_hand": 0, "quality_inspection": 0, "blocked": 0, "in_transit": 0}
    assert positions(process_app)["S1"]["on_hand"] == 2


def test_events_after_the_sync_apply_on_top_and_older_ones_are_stale(gateway, simulator, process_app):
    sap_system(simulator).stock.set_quantity("MAT-1", "1010", "0001", "01", 10)
    service_client(gateway).post("/sap/v1/stock-sync", json={})
    _send(
        process_app,
        _received("before", "S1", 5, occurred_at="2026-01-01T00:00:00Z"),
        _received("after", "S1", 1, occurred_at=(datetime.now(UTC) + timedelta(seconds=1)).isoformat()),
    )
    assert positions(process_app)["S1"]["on_hand"] == 11


def test_sync_of_named_plants_and_materials_reads_only_those(gateway, simulator, process_app):
    _seed(simulator)
    report = service_client(gateway).post("/sap/v1/stock-sync", json={"plants": ["2020"], "materials": ["MAT-2"]})
    assert report.status_code == 200
    assert report.get_json()["positions"] == 1
    assert positions(process_app, "MAT-2") == {
        "D2": {"on_hand": 9, "quality_inspection": 0, "blocked": 0, "in_transit": 0}
    }
    assert positions(process_app, "MAT-1") == {}


def test_a_position_holding_a_fraction_of_a_unit_is_dead_lettered_not_rounded(gateway, simulator, process_app):
    sap_system(simulator).stock.set_quantity("MAT-1", "1010", "0001", "01", "2.5")
    report = service_client(gateway).post("/sap/v1/stock-sync", json={}).get_json()
    assert report["events"] == {"sent": 0, "applied": 0, "duplicate": 0, "stale": 0, "dead_lettered": 1}
    listed = (
        service_client(process_app)
        .get("/inventory/v1/dead-letters", query_string={"reason": "non_integer_quantity"})
        .get_json()["items"]
    )
    assert [entry["payload"]["quantity"] for entry in listed] == [2.5]


def test_repeating_a_sync_changes_nothing(gateway, simulator, process_app):
    _seed(simulator)
    client = service_client(gateway)
    client.post("/sap/v1/stock-sync", json={})
    second = client.post("/sap/v1/stock-sync", json={"report_drift": True}).get_json()
    assert second["drift"] == []
    assert nonzero(positions(process_app)) == nonzero(sap_positions(simulator))


def test_sync_with_sap_down_is_a_503_problem(gateway, simulator):
    sap_system(simulator).faults.update(error_rate=1.0)
    answer = service_client(gateway).post("/sap/v1/stock-sync", json={})
    assert answer.status_code == 503
    assert answer.content_type == "application/problem+json"


def test_stock_is_read_live_from_sap_per_gateway_location(gateway, simulator):
    _seed(simulator)
    client = service_client(gateway)
    answer = client.get("/sap/v1/stock", query_string={"sku": "MAT-1"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert {p["location"]: p for p in body["positions"]} == {
        "S1": {"location": "S1", "on_hand": 17, "quality_inspection": 3, "blocked": 1, "in_transit": 0},
        "S3": {"location": "S3", "on_hand": 4, "quality_inspection": 0, "blocked": 0, "in_transit": 0},
        "D2": {"location": "D2", "on_hand": 0, "quality_inspection": 0, "blocked": 0, "in_transit": 6},
    }
    one = client.get("/sap/v1/stock", query_string={"sku": "MAT-1", "location": "S3"}).get_json()
    assert one["positions"] == [
        {"location": "S3", "on_hand": 4, "quality_inspection": 0, "blocked": 0, "in_transit": 0}
    ]
    nothing = client.get("/sap/v1/stock", query_string={"sku": "MAT-9", "location": "S3"}).get_json()
    assert nothing["positions"] == [
        {"location": "S3", "on_hand": 0, "quality_inspection": 0, "blocked": 0, "in_transit": 0}
    ]


@pytest.mark.parametrize("material", ["MAT-1\n", "MAT-1\u0000", "\ud800"])
def test_a_sync_of_a_material_with_a_control_character_is_422_and_reads_nothing(
    gateway, simulator, process_app, material
):
    _seed(simulator)

    answer = service_client(gateway).post("/sap/v1/stock-sync", json={"materials": [material]})

    assert answer.status_code == 422 and "materials" in answer.get_json()["errors"]["json"]
    assert (
        service_client(process_app)
        .get("/inventory/v1/availability", query_string={"sku": "MAT-1"})
        .get_json()["positions"]
        == []
    )


def test_reading_stock_of_an_unmapped_location_is_not_found(gateway):
    answer = service_client(gateway).get("/sap/v1/stock", query_string={"sku": "MAT-1", "location": "NOWHERE"})
    assert answer.status_code == 404
    assert answer.get_json()["type"].endswith("/unmapped-location")
    assert service_client(gateway).get("/sap/v1/stock").status_code == 422


def _serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_cli_sap_sync_over_http_prints_the_report_and_a_progress_bar(simulator, process_app, monkeypatch, capsys):
    _seed(simulator)
    sap_server, process_server = _serve(simulator), _serve(process_app)
    try:
        settings = make_settings()
        for name, value in {
            "SAP_BASE_URL": f"http://127.0.0.1:{sap_server.server_port}/sap/opu/odata/sap",
            "INVENTORY_PROCESS_URL": f"http://127.0.0.1:{process_server.server_port}",
            "SAP_USER": settings.sap_user,
            "SAP_PASSWORD": settings.sap_password,
            "SAP_LOCATION_MAP": json.dumps(LOCATION_MAP),
        }.items():
            monkeypatch.setenv(name, value)
        assert main(["sap-sync", "--drift", "--plant", "1010"]) == 0
    finally:
        sap_server.shutdown()
        process_server.shutdown()
    captured = capsys.readouterr()
    report = json.loads(captured.out.strip().splitlines()[-1])
    assert report["positions"] == 2  # MAT-1 at S1 and S3: plant 1010's locations
    assert report["events"]["applied"] == 2
    assert "SAP stock records" in captured.err
    assert positions(process_app)["S1"]["on_hand"] == 17
