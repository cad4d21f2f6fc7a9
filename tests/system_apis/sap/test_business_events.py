"""The business-event webhook against the SAP simulator and the inventory process API: SAP's
goods movements reach the gateway's positions exactly once, whatever the broker or SAP does."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import replace

import flask
import pytest
from prometheus_client import REGISTRY
from werkzeug.serving import make_server

from shared.tier_client import WSGITransport
from system_apis.sap.app import create_app
from system_apis.sap.webhook import MATERIAL_DOCUMENT_CREATED
from tests.support.auth import service_client
from tests.support.processes import serving
from tests.system_apis.sap.support import (
    AUDIENCE,
    ISSUER,
    SAP_PASSWORD,
    SAP_USER,
    TokenIssuer,
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


@pytest.mark.parametrize("mode", ["structured", "structured-json", "binary"])
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


def _events_of_type(label: str) -> float:
    return REGISTRY.get_sample_value("sap_business_event_types_total", {"type": label}) or 0.0


@pytest.mark.parametrize(
    "event_type",
    [
        "sap.s4.beh.product.v1.Product.Changed.v1",
        "sap.s4.beh.materialdocument.v1.MaterialDocument.Changed.v1",
        "sap.s4.beh.materialdocument.v2.MaterialDocument.Created.v2",
    ],
)
def test_other_business_events_are_acknowledged_counted_as_other_and_ignored(webhook, process_app, event_type):
    """A broker redelivers whatever is not acknowledged: an event type this API does not consume is
    answered 2xx, whatever its data, and counted under one label ("other"), so /metrics cannot be grown
    by made-up types."""
    before = _events_of_type("other")
    answer = push(webhook, {**cloud_event("2026", "1", type=event_type), "data": {"anything": ["at", "all"]}})
    assert answer.status_code == 202
    assert answer.get_json()["status"] == "ignored"
    assert _events_of_type("other") == before + 1
    assert _events_of_type(event_type) == 0
    assert positions(process_app) == {}


def test_a_material_document_created_event_is_counted_by_its_type(webhook, simulator):
    year, number = post_movement(simulator, "101", 1)
    before = _events_of_type(MATERIAL_DOCUMENT_CREATED)
    assert push(webhook, cloud_event(year, number)).status_code == 200
    assert _events_of_type(MATERIAL_DOCUMENT_CREATED) == before + 1


# -- the CloudEvents webhook validation handshake (HTTP 1.1 Web Hooks for Event Delivery, section 4) -------
@pytest.mark.parametrize("rate", [None, "120"])
def test_the_validation_handshake_needs_no_credentials_and_grants_the_origin(gateway, rate):
    """Section 4.2: the target agrees by answering OPTIONS with WebHook-Allowed-Origin (the origin asked
    for, or *) and WebHook-Allowed-Rate (* = no limit; MUST when WebHook-Request-Rate was sent), and
    SHOULD list POST in Allow. The handshake establishes no authentication (section 4), so it needs none."""
    client = gateway.test_client()
    headers = {"WebHook-Request-Origin": "eventmesh.eu10.hana.ondemand.com"}
    if rate:
        headers["WebHook-Request-Rate"] = rate
    answer = client.options("/sap/v1/business-events", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["WebHook-Allowed-Origin"] == "eventmesh.eu10.hana.ondemand.com"
    assert answer.headers["WebHook-Allowed-Rate"] == "*"
    assert "POST" in answer.headers["Allow"]


def test_a_handshake_with_a_callback_is_granted_in_the_answer_and_the_callback_never_called(gateway):
    """Section 4.1.3 lets the target grant by calling the callback URL instead; this webhook always
    grants in its answer, so an unauthenticated request can never make the gateway call a URL it names."""
    answer = gateway.test_client().options(
        "/sap/v1/business-events",
        headers={
            "WebHook-Request-Origin": "eventmesh.example.com",
            "WebHook-Request-Callback": "http://169.254.169.254/latest/meta-data",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["WebHook-Allowed-Origin"] == "eventmesh.example.com"


@pytest.mark.parametrize("origin", ["bad origin", "evil.example.com;x=1", "x" * 300, "a/b"])
def test_a_handshake_with_an_origin_that_is_no_dns_name_is_refused_with_a_problem(gateway, origin):
    answer = gateway.test_client().options("/sap/v1/business-events", headers={"WebHook-Request-Origin": origin})
    assert answer.status_code == 400
    assert answer.content_type == PROBLEM
    assert "WebHook-Allowed-Origin" not in answer.headers


def test_a_plain_options_request_lists_the_methods_and_grants_nothing(gateway):
    answer = gateway.test_client().options("/sap/v1/business-events")
    assert answer.status_code == 200
    assert "POST" in answer.headers["Allow"]
    assert "WebHook-Allowed-Origin" not in answer.headers


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


# -- MaterialDocument.Canceled: the reversal applied exactly once ---------------------------------------
CANCELED = "sap.s4.beh.materialdocument.v1.MaterialDocument.Canceled.v1"


@pytest.mark.parametrize("first", ["canceled", "reversal created"])
def test_a_cancelled_document_is_reversed_exactly_once_whichever_event_arrives_first(
    webhook, simulator, process_app, first
):
    """S/4HANA raises MaterialDocument.Canceled for the cancelled document and Created for the reversal
    document the cancellation posted (its own number, movement type + 1). Both lead to the reversal
    document's items, with the same event ids (sap:year:reversal:item): whichever comes first applies
    it, the other is a duplicate."""
    year, number = post_movement(simulator, "101", 10)
    assert push(webhook, cloud_event(year, number)).get_json()["applied"] == 1
    reversal = sap_system(simulator).cancel_document(year, number)
    canceled = cloud_event(year, number, type=CANCELED)
    created = cloud_event(*reversal.key)
    pushes = [canceled, created] if first == "canceled" else [created, canceled]

    answers = [push(webhook, event) for event in pushes]

    assert [answer.status_code for answer in answers] == [200, 200], [a.get_json() for a in answers]
    outcomes = [_reversal_outcome(answer.get_json()) for answer in answers]
    assert outcomes == [(1, 0), (0, 1)]
    assert positions(process_app)["S1"]["on_hand"] == 0
    again = push(webhook, canceled)  # the broker redelivers it
    assert again.status_code == 200 and _reversal_outcome(again.get_json()) == (0, 1)
    assert positions(process_app)["S1"]["on_hand"] == 0


def _reversal_outcome(body: dict) -> tuple[int, int]:
    """(applied, duplicate) of a push's answer: a Created event's own, or a Canceled event's reversals."""
    documents = body.get("reversal_documents", [body])
    return sum(d["applied"] for d in documents), sum(d["duplicate"] for d in documents)


def test_a_canceled_event_names_the_cancelled_document_and_answers_with_its_reversal(webhook, simulator):
    year, number = post_movement(simulator, "101", 4)
    reversal = sap_system(simulator).cancel_document(year, number)

    body = push(webhook, cloud_event(year, number, type=CANCELED)).get_json()

    assert body["status"] == "processed" and body["type"] == CANCELED
    assert body["cancelled_document"] == {"year": year, "number": number}
    [document] = body["reversal_documents"]
    assert document["material_document"] == {"year": reversal.key[0], "number": reversal.key[1]}
    assert document["events"] == 1


def test_each_item_cancelled_on_its_own_is_reversed_once(webhook, simulator, process_app):
    """CancelItem posts one reversal document per cancelled item; a Canceled event applies every one."""
    items = [
        {"GoodsMovementType": "101", "Material": "MAT-1", "Plant": "1010", "StorageLocation": sloc,
         "QuantityInEntryUnit": "5"}
        for sloc in ("0001", "0009")
    ]  # fmt: skip
    year, number = sap_system(simulator).post_document({"GoodsMovementCode": "01"}, items).key
    assert push(webhook, cloud_event(year, number)).get_json()["applied"] == 2
    first = sap_system(simulator).cancel_document(year, number, item="1")
    assert push(webhook, cloud_event(year, number, type=CANCELED)).status_code == 200
    assert positions(process_app)["S1"]["on_hand"] == 0 and positions(process_app)["S3"]["on_hand"] == 5

    sap_system(simulator).cancel_document(year, number, item="2")
    body = push(webhook, cloud_event(year, number, type=CANCELED)).get_json()
    assert len(body["reversal_documents"]) == 2
    assert _reversal_outcome(body) == (1, 1)
    assert push(webhook, cloud_event(*first.key)).get_json()["duplicate"] == 1
    assert positions(process_app)["S1"]["on_hand"] == 0 and positions(process_app)["S3"]["on_hand"] == 0


def test_a_canceled_event_whose_reversal_sap_does_not_show_yet_is_redelivered(webhook, simulator, process_app):
    year, number = post_movement(simulator, "101", 3)
    answer = push(webhook, cloud_event(year, number, type=CANCELED))
    assert answer.status_code == 503 and answer.content_type == PROBLEM
    assert int(answer.headers["Retry-After"]) >= 1
    assert "reversal" in answer.get_json()["detail"]


def test_the_simulator_emits_canceled_and_the_gateway_ends_equal_to_sap(settings, simulator, process_app, store):
    gateway = create_app(settings, process_app=process_app, sap_app=simulator, redis=store)
    _subscribe(simulator, gateway)
    sap = sap_system(simulator)
    sap.faults.update(duplicate_rate=0.5, reorder=3, seed=11)
    post_movement(simulator, "101", 20)
    for _ in range(3):
        year, number = post_movement(simulator, "251", 2, SalesOrder="1000001")
        sap.cancel_document(year, number)
    assert sap.flush(timeout=20)
    assert sap.events.undeliverable() == []
    assert sap.events.stats()["published"] == 1 + 3 * 3  # each cancellation: Created of the reversal, Canceled
    assert (
        nonzero(positions(process_app))
        == nonzero(sap_positions(simulator))
        == {"S1": {"on_hand": 20, "quality_inspection": 0, "blocked": 0, "in_transit": 0}}
    )


# -- OAuth 2.0 bearer tokens (SAP_WEBHOOK_AUTH=oauth) ----------------------------------------------------
@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture
def oauth_gateway(issuer, tmp_path, process_app, simulator, store):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    settings = make_settings(
        sap_webhook_auth="oauth", sap_webhook_jwks=str(jwks), sap_webhook_issuer=ISSUER, sap_webhook_audience=AUDIENCE
    )
    return service_client(create_app(settings, process_app=process_app, sap_app=simulator, redis=store))


def test_oauth_mode_accepts_a_token_of_the_configured_issuer(oauth_gateway, issuer, simulator, process_app):
    year, number = post_movement(simulator, "101", 3)
    answer = push(oauth_gateway, cloud_event(year, number), headers={"Authorization": f"Bearer {issuer.token()}"})
    assert answer.status_code == 200, answer.get_json()
    assert positions(process_app)["S1"]["on_hand"] == 3


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="only the HMAC signature"),
        pytest.param(lambda issuer: f"Bearer {issuer.token(aud='another-api')}", id="other audience"),
        pytest.param(lambda issuer: f"Bearer {issuer.token(lifetime=-120)}", id="expired"),
        pytest.param(lambda issuer: f"Bearer {TokenIssuer(kid=issuer.kid).token()}", id="another key"),
        pytest.param(lambda issuer: "Basic " + base64.b64encode(f"{SAP_USER}:{SAP_PASSWORD}".encode()).decode(),
                     id="Basic"),
    ],
)  # fmt: skip
def test_oauth_mode_refuses_anything_but_a_valid_token_with_a_401_problem(
    oauth_gateway, issuer, simulator, process_app, authorization
):
    year, number = post_movement(simulator, "101", 3)
    headers = {"Authorization": authorization(issuer)} if authorization else {}
    answer = push(oauth_gateway, cloud_event(year, number), headers=headers)
    assert answer.status_code == 401 and answer.content_type == PROBLEM
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert positions(process_app) == {}


@pytest.mark.parametrize("missing", ["sap_webhook_jwks", "sap_webhook_issuer", "sap_webhook_audience"])
def test_oauth_mode_does_not_start_without_its_issuer_keys_and_audience(missing):
    values = {"sap_webhook_jwks": "/etc/jwks.json", "sap_webhook_issuer": ISSUER, "sap_webhook_audience": AUDIENCE}
    with pytest.raises(ValueError, match=missing.upper()):
        make_settings(sap_webhook_auth="oauth", **{**values, missing: None}).check()


def test_a_jwks_url_that_does_not_answer_asks_for_redelivery(issuer, process_app, simulator, store):
    """Keys that cannot be fetched say nothing about the push: 503, so the broker redelivers."""
    settings = make_settings(
        sap_webhook_auth="oauth",
        sap_webhook_jwks="http://127.0.0.1:9/jwks.json",  # the discard port: nothing listens
        sap_webhook_issuer=ISSUER,
        sap_webhook_audience=AUDIENCE,
    )
    client = service_client(create_app(settings, process_app=process_app, sap_app=simulator, redis=store))
    year, number = post_movement(simulator, "101", 3)
    answer = push(client, cloud_event(year, number), headers={"Authorization": f"Bearer {issuer.token()}"})
    assert answer.status_code == 503 and answer.content_type == PROBLEM
    assert "Retry-After" in answer.headers


def test_over_http_the_simulator_pushes_bearer_tokens_checked_against_the_issuer_jwks_url(
    issuer, simulator, process_app, store
):
    """End to end over real HTTP, as with SAP Event Mesh: the broker sends each push with a token of its
    OAuth issuer; the gateway fetches the issuer's keys from its JWKS URL (timeout, cached) and checks it."""
    keys = flask.Flask("issuer-keys")
    keys.get("/token_keys")(lambda: issuer.jwks())
    with serving(keys) as issuer_url:
        settings = make_settings(
            sap_webhook_auth="oauth",
            sap_webhook_jwks=f"{issuer_url}/token_keys",
            sap_webhook_issuer=ISSUER,
            sap_webhook_audience=AUDIENCE,
        )
        gateway = create_app(settings, process_app=process_app, sap_app=simulator, redis=store)
        with serving(gateway) as gateway_url:
            sap = sap_system(simulator)
            sap.events.subscribe(
                f"{gateway_url}/sap/v1/business-events", mode="structured-json", auth="oauth", token=issuer.token
            )
            post_movement(simulator, "101", 12)
            year, number = post_movement(simulator, "251", 5, SalesOrder="1000007")
            sap.cancel_document(year, number)
            post_movement(simulator, "251", 2, SalesOrder="1000008")
            assert sap.flush(timeout=20)
    assert sap.events.undeliverable() == []
    assert sap.events.stats()["failed_attempts"] == 0
    assert nonzero(positions(process_app)) == nonzero(sap_positions(simulator))
    assert positions(process_app)["S1"]["on_hand"] == 10
