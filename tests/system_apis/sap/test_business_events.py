"""The business-event webhook against the SAP simulator and the inventory process API: SAP's
goods movements reach the gateway's positions exactly once, whatever the broker or SAP does."""

from __future__ import annotations

import base64
import threading
from dataclasses import replace

import flask
import pytest
from werkzeug.serving import make_server

from shared.tier_client import WSGITransport
from system_apis.sap.app import create_app
from tests.support.auth import service_client
from tests.system_apis.sap.support import (
    SAP_PASSWORD,
    SAP_USER,
    cloud_event,
    make_settings,
    nonzero,
    positions,
    post_movement,
    push,
    sap_positions,
    sap_system,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def webhook(gateway):
    return service_client(gateway)


@pytest.mark.parametrize("mode", ["structured", "binary"])
def test_a_pushed_goods_receipt_is_applied_to_the_position(webhook, simulator, process_app, mode):
    year, number = post_movement(simulator, "101", 10, PurchaseOrder="4500000001")
    answer = push(webhook, cloud_event(year, number), mode=mode)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["status"], body["document_items"], body["events"], body["applied"]) == ("processed", 1, 1, 1)
    assert body["material_document"] == {"year": year, "number": number}
    assert positions(process_app)["S1"]["on_hand"] == 10


def test_a_redelivered_event_counts_once(webhook, simulator, process_app):
    year, number = post_movement(simulator, "701", 4)
    event = cloud_event(year, number)
    assert push(webhook, event).get_json()["applied"] == 1
    # The event ids make the redelivery a duplicate; no stored answer per document is kept for it.
    again = push(webhook, event)
    assert again.status_code == 200
    assert (again.get_json()["applied"], again.get_json()["duplicate"]) == (0, 1)
    assert positions(process_app)["S1"]["on_hand"] == 4


def test_sap_unavailable_while_fetching_asks_for_redelivery_and_the_redelivery_applies_once(
    webhook, simulator, process_app
):
    year, number = post_movement(simulator, "101", 6)
    event = cloud_event(year, number)
    sap_system(simulator).faults.update(error_rate=1.0)
    failed = push(webhook, event)
    assert failed.status_code == 503
    assert failed.content_type == PROBLEM
    assert int(failed.headers["Retry-After"]) >= 1
    assert "redeliver" in failed.get_json()["detail"]
    assert positions(process_app) == {}

    sap_system(simulator).faults.reset()
    assert push(webhook, event).get_json()["applied"] == 1
    assert push(webhook, event).status_code == 200
    assert positions(process_app)["S1"]["on_hand"] == 6


@pytest.fixture
def sap_over_http(simulator):
    server = make_server("127.0.0.1", 0, simulator, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sap/opu/odata/sap"
    server.shutdown()


def test_sap_timing_out_asks_for_redelivery_over_http(sap_over_http, simulator, process_app, store):
    settings = make_settings(sap_base_url=sap_over_http, upstream_read_timeout_seconds=0.1, upstream_attempts=2)
    client = service_client(create_app(settings, process_app=process_app, redis=store))
    year, number = post_movement(simulator, "101", 8)
    event = cloud_event(year, number)
    sap_system(simulator).faults.update(timeout_rate=1.0, timeout_seconds=0.4)
    answer = push(client, event)
    assert answer.status_code == 503
    assert "ReadTimeout" in answer.get_json()["detail"]
    sap_system(simulator).faults.reset()
    assert push(client, event).get_json()["applied"] == 1
    assert positions(process_app)["S1"]["on_hand"] == 8


def test_a_document_sap_cannot_find_yet_is_redelivered_not_dropped(webhook):
    answer = push(webhook, cloud_event("2026", "4999999999"))
    assert answer.status_code == 503
    assert answer.get_json()["upstream_status"] == 404


def test_process_api_unavailable_asks_for_redelivery(settings, simulator, store):
    down = flask.Flask("down")

    @down.post("/inventory/v1/events")
    def events():
        return {"detail": "maintenance"}, 503

    gateway = create_app(settings, process_app=down, sap_app=simulator, redis=store)
    year, number = post_movement(simulator, "101", 1)
    answer = push(service_client(gateway), cloud_event(year, number))
    assert answer.status_code == 503
    assert answer.get_json()["upstream"] == "inventory-process"


def test_an_unmapped_plant_is_dead_lettered_with_the_sap_reason(webhook, simulator, process_app):
    sap_system(simulator).stock.set_quantity("MAT-1", "3030", "0001", "01", 5)
    year, number = post_movement(simulator, "251", 2, plant="3030", sloc="0001", SalesOrder="1000042")
    answer = push(webhook, cloud_event(year, number))
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["events"], body["dead_lettered"]) == (0, 1)
    (rejected,) = body["rejected_items"]
    assert rejected["reason"] == "unmapped_location" and "3030/0001" in rejected["detail"]
    assert rejected["event_id"] == f"sap:{year}:{number}:0001"

    listed = service_client(process_app).get("/inventory/v1/dead-letters", query_string={"reason": "unmapped_location"})
    (entry,) = listed.get_json()["items"]
    assert entry["id"] == rejected["dead_letter_id"]
    assert entry["source"] == "sap"
    assert entry["payload"]["sap_item"]["Plant"] == "3030"
    assert entry["payload"]["material_document"] == {"year": year, "number": number, "item": "0001"}


def test_each_item_of_a_document_is_applied_or_dead_lettered_on_its_own(webhook, simulator, process_app):
    items = [
        {
            "GoodsMovementType": "101",
            "Material": "MAT-1",
            "Plant": "1010",
            "StorageLocation": "0001",
            "QuantityInEntryUnit": quantity,
        }
        for quantity in ("4", "2.5")
    ]
    year, number = sap_system(simulator).post_document({"GoodsMovementCode": "01"}, items).key
    body = push(webhook, cloud_event(year, number)).get_json()
    assert (body["document_items"], body["applied"], body["dead_lettered"]) == (2, 1, 1)
    assert body["rejected_items"][0]["reason"] == "non_integer_quantity"
    assert body["rejected_items"][0]["event_id"] == f"sap:{year}:{number}:0002"
    assert positions(process_app)["S1"]["on_hand"] == 4


def test_after_fixing_the_location_map_a_replay_applies_what_was_dead_lettered(simulator, process_app, store, webhook):
    sap_system(simulator).stock.set_quantity("MAT-1", "3030", "0001", "01", 5)
    year, number = post_movement(simulator, "251", 2, plant="3030", sloc="0001")
    assert push(webhook, cloud_event(year, number)).get_json()["dead_lettered"] == 1

    fixed = make_settings(sap_location_map='{"1010/0001": "S1", "3030": "S3"}')
    replayed = service_client(create_app(fixed, process_app=process_app, sap_app=simulator, redis=store)).post(
        f"/sap/v1/material-documents/{year}/{number}/replay"
    )
    assert replayed.status_code == 200
    assert replayed.get_json()["applied"] == 1
    assert positions(process_app)["S3"]["on_hand"] == -2  # the gateway had no count of S3 yet


def test_a_dead_lettered_sap_item_redriven_in_the_process_api_points_to_the_replay(simulator, process_app, webhook):
    sap_system(simulator).stock.set_quantity("MAT-1", "3030", "0001", "01", 5)
    year, number = post_movement(simulator, "251", 2, plant="3030", sloc="0001")
    [rejected] = push(webhook, cloud_event(year, number)).get_json()["rejected_items"]

    answer = service_client(process_app).post(f"/inventory/v1/dead-letters/{rejected['dead_letter_id']}/redrive")

    assert answer.status_code == 409 and answer.content_type == "application/problem+json"
    assert answer.get_json()["replay"] == f"POST /sap/v1/material-documents/{year}/{number}/replay"
    entry = service_client(process_app).get(f"/inventory/v1/dead-letters/{rejected['dead_letter_id']}").get_json()
    assert entry["status"] == "open"


def test_other_business_events_are_acknowledged_and_ignored(webhook):
    answer = push(webhook, cloud_event("2026", "1", type="sap.s4.beh.product.v1.Product.Changed.v1"))
    assert answer.status_code == 202
    assert answer.get_json()["status"] == "ignored"


@pytest.mark.parametrize(
    "tamper",
    [
        {"secret": "not-the-secret"},
        {"signed_at": 1_000_000_000},
        {"headers": {"X-Signature": ""}},
    ],
)
def test_an_unverified_push_is_refused_with_a_problem(webhook, simulator, process_app, tamper):
    year, number = post_movement(simulator, "101", 3)
    answer = push(webhook, cloud_event(year, number), **tamper)
    assert answer.status_code == 401
    assert answer.content_type == PROBLEM
    assert positions(process_app) == {}


def test_basic_mode_accepts_sap_communication_user(simulator, process_app, store):
    gateway = create_app(
        make_settings(sap_webhook_auth="basic"), process_app=process_app, sap_app=simulator, redis=store
    )
    client = service_client(gateway)
    year, number = post_movement(simulator, "101", 3)
    event = cloud_event(year, number)
    assert push(client, event).status_code == 401  # a signature is not Basic auth
    basic = "Basic " + base64.b64encode(f"{SAP_USER}:{SAP_PASSWORD}".encode()).decode()
    assert push(client, event, headers={"Authorization": basic}).status_code == 200


def test_a_malformed_event_is_a_client_error(webhook):
    answer = push(webhook, {**cloud_event("2026", "1"), "data": {"MaterialDocument": "1"}})
    assert answer.status_code == 422
    assert answer.content_type == PROBLEM


def _subscribe(simulator, gateway, **options):
    broker = sap_system(simulator).events
    broker.session.mount("http://gateway", WSGITransport(gateway))
    broker.subscribe("http://gateway/sap/v1/business-events", **options)


@pytest.mark.parametrize("mode, auth", [("structured", "hmac"), ("binary", "hmac"), ("structured", "basic")])
def test_simulator_pushes_with_duplicates_and_reordering_end_equal_to_sap_stock(
    settings, simulator, process_app, store, mode, auth
):
    gateway = create_app(make_settings(sap_webhook_auth=auth), process_app=process_app, sap_app=simulator, redis=store)
    _subscribe(simulator, gateway, mode=mode, auth=auth)
    sap = sap_system(simulator)
    sap.faults.update(duplicate_rate=0.5, reorder=4, seed=7)
    post_movement(simulator, "101", 20)
    post_movement(simulator, "101", 5, InventoryStockType="02")
    post_movement(simulator, "303", 6, IssuingOrReceivingPlant="2020", IssuingOrReceivingStorageLoc="0002")
    post_movement(simulator, "305", 4, plant="2020", sloc="0002")
    post_movement(simulator, "311", 3, IssuingOrReceivingStorageLoc="0009")
    post_movement(simulator, "251", 2, SalesOrder="1000001")
    post_movement(simulator, "344", 2)
    post_movement(simulator, "350", 1)
    post_movement(simulator, "321", 2)
    year, number = post_movement(simulator, "601", 1, Delivery="80000001")
    sap.cancel_document(year, number)
    assert sap.flush(timeout=20)
    assert sap.events.undeliverable() == []
    assert nonzero(positions(process_app)) == nonzero(sap_positions(simulator))
    assert sap.events.stats()["duplicated"] > 0


def _stub_process_api(events_answer):
    stub = flask.Flask("stub-process")

    @stub.post("/inventory/v1/events")
    def events():
        return events_answer(flask.request.get_json()["events"])

    return stub


def test_without_the_dead_letter_intake_an_unmappable_item_is_redelivered_not_lost(settings, simulator, store):
    stub = _stub_process_api(
        lambda events: {
            "received": len(events),
            "applied": len(events),
            "duplicate": 0,
            "stale": 0,
            "dead_lettered": 0,
            "not_applied": [],
        }
    )
    gateway = create_app(settings, process_app=stub, sap_app=simulator, redis=store)
    sap_system(simulator).stock.set_quantity("MAT-1", "3030", "0001", "01", 5)
    year, number = post_movement(simulator, "251", 2, plant="3030", sloc="0001")
    answer = push(service_client(gateway), cloud_event(year, number))
    assert answer.status_code == 503
    assert answer.get_json()["upstream_status"] == 404  # no such route yet


def test_a_process_api_answer_that_leaves_events_unaccounted_is_redelivered(settings, simulator, store):
    stub = _stub_process_api(
        lambda events: {
            "received": len(events),
            "applied": 0,
            "duplicate": 0,
            "stale": 0,
            "dead_lettered": 0,
            "not_applied": [],
        }
    )
    gateway = create_app(settings, process_app=stub, sap_app=simulator, redis=store)
    year, number = post_movement(simulator, "101", 2)
    answer = push(service_client(gateway), cloud_event(year, number))
    assert answer.status_code == 503
    assert "accounted for 0 of 1" in answer.get_json()["detail"]


def test_on_a_real_redis_a_redelivered_push_after_sap_failed_applies_once(redis_url, simulator):
    from process_apis.inventory.app import create_app as create_process_app
    from shared.redis import create_redis

    settings = make_settings(redis_url=redis_url)
    redis = create_redis(settings)
    process_app = create_process_app(settings, redis)
    assert service_client(process_app).put("/inventory/v1/locations/S1", json={"type": "store"}).status_code == 201
    client = service_client(create_app(settings, process_app=process_app, sap_app=simulator, redis=redis))
    year, number = post_movement(simulator, "101", 9)
    event = cloud_event(year, number)
    sap_system(simulator).faults.update(error_rate=1.0)
    assert push(client, event).status_code == 503
    sap_system(simulator).faults.reset()
    assert push(client, event).status_code == 200
    assert push(client, event).get_json()["duplicate"] == 1
    assert not redis.keys("idem:*")  # event ids dedup the redelivery; no answer is stored per document
    assert positions(process_app)["S1"]["on_hand"] == 9


def test_an_item_dead_lettered_for_a_value_with_a_control_character_keeps_it_escaped_in_the_detail(
    webhook, simulator, process_app
):
    """The process API refuses control characters in a dead letter's detail; SAP's own values are passed on
    escaped, so the item is dead-lettered instead of the push failing for good."""
    sap_system(simulator).stock.set_quantity("MAT-1", "3030", "00\n1", "01", 5)
    year, number = post_movement(simulator, "251", 2, plant="3030", sloc="00\n1", SalesOrder="1000042")

    answer = push(webhook, cloud_event(year, number))

    assert answer.status_code == 200, answer.get_json()
    (rejected,) = answer.get_json()["rejected_items"]
    listed = service_client(process_app).get("/inventory/v1/dead-letters").get_json()["items"]
    assert [entry["id"] for entry in listed] == [rejected["dead_letter_id"]]
    assert "3030/00\\u000a1" in listed[0]["detail"]


@pytest.mark.parametrize("settings", [make_settings(sap_time_zone="Europe/Berlin")], ids=["SAP posting in Berlin"])
@pytest.mark.parametrize(("read_in", "applied"), [("Europe/Berlin", 1), ("UTC", 0)])
def test_a_document_posted_now_in_sap_local_time_applies_when_read_in_sap_time_zone(
    settings, process_app, simulator, store, read_in, applied
):
    """A CET system posts local wall time; read as UTC it would be an hour ahead, so from_future."""
    gateway = create_app(
        replace(settings, sap_time_zone=read_in), process_app=process_app, sap_app=simulator, redis=store
    )
    year, number = post_movement(simulator, "101", 3)

    answer = push(service_client(gateway), cloud_event(year, number))

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["applied"] == applied
    refused = (
        service_client(process_app)
        .get("/inventory/v1/dead-letters", query_string={"reason": "from_future"})
        .get_json()["items"]
    )
    assert len(refused) == 1 - applied
    assert positions(process_app).get("S1", {}).get("on_hand", 0) == 3 * applied
