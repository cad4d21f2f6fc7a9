"""The CloudEvents broker: signed pushes in both content modes, at-least-once redelivery, and the
duplicate / reorder / drop faults, received by a small Flask app over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests

from simulators.sap.app import create_app
from simulators.sap.events import CANCELED_EVENT_TYPE, EVENT_TYPE, DeliveryPolicy
from tests.simulators.sap.support import PASSWORD, SECRET, USER, make_settings
from tests.support.processes import serving

SALE = {
    "GoodsMovementType": "251",
    "Material": "MAT-1001",
    "Plant": "1010",
    "StorageLocation": "0001",
    "QuantityInEntryUnit": "1",
}


def subscribe(simulator, receiver, **options) -> dict:
    answer = simulator.session().post(
        f"{simulator.url}/sap-sim/admin/subscriptions", json={"url": receiver.url, **options}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def sell(simulator, times: int = 1) -> list[tuple[str, str]]:
    return [simulator.system.post_document({"GoodsMovementCode": "03"}, [SALE]).key for _ in range(times)]


def verify_hmac(push: dict) -> None:
    timestamp = push["headers"]["X-Signature-Timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + push["body"], hashlib.sha256).hexdigest()
    assert push["headers"]["X-Signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - time.time()) < 60


def test_structured_push_is_a_signed_cloudevent(simulator, receiver):
    subscribe(simulator, receiver, mode="structured", auth="hmac")
    [(year, number)] = sell(simulator)
    assert simulator.system.flush(5)
    [push] = receiver.pushes
    assert push["headers"]["Content-Type"] == "application/cloudevents+json"
    verify_hmac(push)
    event = json.loads(push["body"])
    assert event["specversion"] == "1.0" and event["type"] == EVENT_TYPE
    assert event["source"] == "/default/sap.s4.beh/S4HCLNT100" and event["datacontenttype"] == "application/json"
    assert event["data"] == {"MaterialDocument": number, "MaterialDocumentYear": year}
    assert len(event["id"]) == 36 and event["time"].endswith("Z")


def test_binary_push_carries_the_attributes_in_headers(simulator, receiver):
    subscribe(simulator, receiver, mode="binary", auth="hmac")
    [(year, number)] = sell(simulator)
    assert simulator.system.flush(5)
    [push] = receiver.pushes
    headers = push["headers"]
    assert headers["Content-Type"] == "application/json"
    assert (headers["Ce-Specversion"], headers["Ce-Type"]) == ("1.0", EVENT_TYPE)
    assert headers["Ce-Source"].startswith("/default/sap.s4.beh/") and headers["Ce-Id"] and headers["Ce-Time"]
    assert json.loads(push["body"]) == {"MaterialDocument": number, "MaterialDocumentYear": year}
    verify_hmac(push)


def test_basic_auth_push(simulator, receiver):
    subscribe(simulator, receiver, auth="basic")
    sell(simulator)
    assert simulator.system.flush(5)
    [push] = receiver.pushes
    assert push["headers"]["Authorization"] == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert "X-Signature" not in push["headers"]


def test_a_cancellation_emits_created_for_the_reversal_and_canceled_for_the_cancelled_document(simulator, receiver):
    """As S/4HANA: the reversal document is a material document of its own (Created), and the cancelled
    document raises MaterialDocument.Canceled, naming itself (notification style, its key only)."""
    subscribe(simulator, receiver)
    [key] = sell(simulator)
    reversal = simulator.system.cancel_document(*key)
    assert simulator.system.flush(5)
    events = [json.loads(p["body"]) for p in receiver.pushes]
    assert [(e["type"], e["data"]["MaterialDocument"]) for e in events] == [
        (EVENT_TYPE, key[1]),
        (EVENT_TYPE, reversal.key[1]),
        (CANCELED_EVENT_TYPE, key[1]),
    ]
    assert events[2]["data"] == {"MaterialDocument": key[1], "MaterialDocumentYear": key[0]}
    assert CANCELED_EVENT_TYPE == "sap.s4.beh.materialdocument.v1.MaterialDocument.Canceled.v1"


def test_a_cancelled_item_emits_canceled_for_its_document(simulator, receiver):
    subscribe(simulator, receiver)
    [key] = sell(simulator)
    simulator.system.cancel_document(*key, item="1")
    assert simulator.system.flush(5)
    assert [json.loads(p["body"])["type"] for p in receiver.pushes][-1] == CANCELED_EVENT_TYPE


def test_structured_json_push_is_the_whole_cloudevent_as_application_json(simulator, receiver):
    """SAP Event Mesh hands a webhook the CloudEvent as the JSON body with Content-Type application/json."""
    subscribe(simulator, receiver, mode="structured-json", auth="hmac")
    [(year, number)] = sell(simulator)
    assert simulator.system.flush(5)
    [push] = receiver.pushes
    assert push["headers"]["Content-Type"] == "application/json"
    assert not any(name.lower().startswith("ce-") for name in push["headers"])
    event = json.loads(push["body"])
    assert event["type"] == EVENT_TYPE and event["data"] == {"MaterialDocument": number, "MaterialDocumentYear": year}
    verify_hmac(push)


def test_oauth_push_carries_a_fresh_bearer_token_from_the_subscription(simulator, receiver):
    minted = iter(["token-1", "token-2"])
    simulator.system.events.subscribe(receiver.url, auth="oauth", token=lambda: next(minted))
    sell(simulator, 2)
    assert simulator.system.flush(5)
    assert sorted(p["headers"]["Authorization"] for p in receiver.pushes) == ["Bearer token-1", "Bearer token-2"]
    assert all("X-Signature" not in p["headers"] for p in receiver.pushes)


def test_an_oauth_subscription_needs_a_token(simulator, receiver):
    with pytest.raises(ValueError, match="token"):
        simulator.system.events.subscribe(receiver.url, auth="oauth")
    static = simulator.system.events.subscribe(receiver.url, auth="oauth", token="static-token")
    assert static.to_dict()["auth"] == "oauth" and "static-token" not in json.dumps(static.to_dict())


def test_a_failed_push_is_redelivered_with_the_same_event_id(simulator, receiver):
    subscribe(simulator, receiver)
    receiver.script = [503, 500]
    sell(simulator)
    assert simulator.system.flush(5)
    assert [p["status"] for p in receiver.pushes] == [503, 500, 200]
    assert len({json.loads(p["body"])["id"] for p in receiver.pushes}) == 1
    stats = simulator.system.events.stats()
    assert (stats["delivered"], stats["failed_attempts"], stats["pending"]) == (1, 2, 0)


def test_redelivery_is_bounded_then_the_push_is_parked(simulator, receiver):
    subscribe(simulator, receiver)
    receiver.script = [503] * 10
    [(year, number)] = sell(simulator)
    assert simulator.system.flush(5)
    assert len(receiver.pushes) == 4  # max_attempts of the test delivery policy
    [parked] = simulator.system.events.undeliverable()
    assert parked["attempts"] == 4 and parked["last_error"] == "HTTP 503"
    assert parked["event"]["data"]["MaterialDocument"] == number
    admin = simulator.session().get(f"{simulator.url}/sap-sim/admin/deliveries").json()
    assert (admin["undeliverable"], admin["delivered"], admin["pending"]) == (1, 0, 0)


def test_a_push_that_times_out_is_retried(simulator, receiver):
    simulator.system.events.policy = DeliveryPolicy(
        max_attempts=3, backoff_base_seconds=0.01, timeout_seconds=0.2, workers=1
    )
    subscribe(simulator, receiver)
    receiver.delays = [0.5]
    sell(simulator)
    assert simulator.system.flush(5)
    stats = simulator.system.events.stats()
    assert (stats["delivered"], stats["failed_attempts"], len(receiver.pushes)) == (1, 1, 2)


def test_duplicated_pushes_share_their_event_id(simulator, receiver):
    subscribe(simulator, receiver)
    simulator.system.faults.update(duplicate_rate=1.0)
    sell(simulator, 3)
    assert simulator.system.flush(5)
    ids = [json.loads(p["body"])["id"] for p in receiver.pushes]
    assert len(ids) == 6 and len(set(ids)) == 3
    assert simulator.system.events.stats()["duplicated"] == 3


def test_reordered_pushes_arrive_shuffled_but_complete(simulator, receiver):
    subscribe(simulator, receiver)
    simulator.system.faults.update(reorder=5, seed=1)
    posted = [number for _, number in sell(simulator, 5)]
    assert simulator.system.flush(5)
    received = [json.loads(p["body"])["data"]["MaterialDocument"] for p in receiver.pushes]
    assert sorted(received) == posted and received != posted


def test_a_partly_filled_reorder_window_is_released_after_its_hold_time(simulator, receiver):
    subscribe(simulator, receiver)
    simulator.system.faults.update(reorder=10, reorder_max_hold_ms=50)
    sell(simulator, 2)
    deadline = time.monotonic() + 5
    while len(receiver.pushes) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # no flush here: the hold timer alone must release the window
    assert len(receiver.pushes) == 2


def test_dropped_pushes_are_never_delivered(simulator, receiver):
    subscribe(simulator, receiver)
    simulator.system.faults.update(drop_rate=0.5, seed=5)
    sell(simulator, 10)
    assert simulator.system.flush(5)
    stats = simulator.system.events.stats()
    assert 0 < stats["dropped"] < 10
    assert len(receiver.pushes) == 10 - stats["dropped"] == stats["delivered"]


def test_subscribers_from_settings_and_invalid_subscriptions(receiver):
    app = create_app(make_settings(sap_sim_subscribers=f" {receiver.url} ,", sap_webhook_auth="basic"))
    system = app.extensions["sap_system"]
    [subscription] = system.events.subscriptions()
    assert (subscription.url, subscription.mode, subscription.auth) == (receiver.url, "structured", "basic")
    with serving(app) as url:
        admin = f"{url}/sap-sim/admin/subscriptions"
        auth = (USER, PASSWORD)
        assert requests.post(admin, json={"url": receiver.url, "mode": "batch"}, auth=auth).status_code == 400
        assert requests.post(admin, json={"url": "ftp://x"}, auth=auth).status_code == 400
        assert requests.delete(f"{admin}/{subscription.id}", auth=auth).status_code == 204
        assert requests.get(admin, auth=auth).json() == []
    system.close()
    with pytest.raises(ValueError, match="SAP_WEBHOOK_SECRET"):
        create_app(make_settings(sap_webhook_secret=None, sap_sim_subscribers=receiver.url))
