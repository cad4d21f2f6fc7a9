"""POST /salesforce/v1/availability against the Salesforce simulator: chunking, duplicates, retries
on 429/503, the API limit, per-record failures dead-lettered, Platform Event mode."""

from __future__ import annotations

import dataclasses
import logging
import time

import pytest
from prometheus_client import REGISTRY

from simulators.salesforce.app import OrgOptions
from simulators.salesforce.app import create_app as create_simulator
from simulators.salesforce.schema import PICKLIST, STANDARD_OBJECTS, Field
from system_apis.salesforce.app import create_app
from tests.support.auth import service_client
from tests.support.processes import serving
from tests.system_apis.salesforce.conftest import FAST
from tests.system_apis.salesforce.support import admin, outcome, records, seed_where

URL = "/salesforce/v1/availability"


def publish(client, outcomes, **kwargs):
    return client.post(URL, json={"outcomes": outcomes}, **kwargs)


def test_outcome_is_upserted_as_product_availability(client, simulator):
    answer = publish(client, [outcome("MAT-1", "S1", ats=5, ato=7)])
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["received"], body["written"], body["dead_lettered"], body["failed"]) == (1, 1, 0, [])
    assert body["salesforce_calls"] == 1 and body["slow_down"] is False
    assert body["api_usage"]["used"] == 1 and body["api_usage"]["limit"] == 100000
    record = records(simulator)["MAT-1|S1|web"]
    assert (record["SKU__c"], record["Location__c"], record["Location_Type__c"], record["Channel__c"]) == (
        "MAT-1",
        "S1",
        "location",
        "web",
    )
    assert (record["Available_To_Sell__c"], record["Available_To_Order__c"], record["Status__c"]) == (5, 7, "in_stock")
    assert record["As_Of__c"] == "2026-11-26T10:00:00.000+0000"


def test_freshness_is_measured_by_the_publisher_only(client):
    publish(client, [outcome()])
    # One histogram of event → acknowledged: the publisher's inventory_publish_freshness_seconds.
    assert REGISTRY.get_sample_value("salesforce_availability_lag_seconds_count") is None


def test_a_later_outcome_updates_the_same_record(client, simulator):
    publish(client, [outcome(group="WEB-SHIP", ats=5)])
    publish(client, [outcome(group="WEB-SHIP", ats=2, ms=10)])
    stored = records(simulator)
    assert list(stored) == ["MAT-1|WEB-SHIP|web"]
    assert stored["MAT-1|WEB-SHIP|web"]["Available_To_Sell__c"] == 2
    assert stored["MAT-1|WEB-SHIP|web"]["Location_Type__c"] == "location_group"


def test_450_outcomes_cost_three_collection_calls(client, simulator):
    outcomes = [outcome(f"MAT-{n}", "S1") for n in range(450)]
    body = publish(client, outcomes).get_json()
    assert body["written"] == 450 and body["salesforce_calls"] == 3
    assert len(records(simulator)) == 450
    assert admin(simulator, "GET", "usage")["used"] == 3


def test_only_the_newest_outcome_per_key_is_written(client, simulator):
    outcomes = [outcome(ats=9, ms=300), outcome(ats=1, ms=100), outcome("MAT-2", ats=4), outcome(ats=3, ms=200)]
    body = publish(client, outcomes).get_json()
    assert (body["received"], body["written"], body["superseded"]) == (4, 2, 2)
    assert records(simulator)["MAT-1|S1|web"]["Available_To_Sell__c"] == 9
    history = admin(simulator, "GET", "history/Product_Availability__c/Availability_Key__c/MAT-1|S1|web")
    assert len(history) == 1  # the older values never reached Salesforce


def test_a_retried_batch_with_its_idempotency_key_is_written_once(client, simulator):
    first = publish(client, [outcome()], headers={"Idempotency-Key": "batch-1"})
    again = publish(client, [outcome()], headers={"Idempotency-Key": "batch-1"})
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert admin(simulator, "GET", "usage")["used"] == 1


def test_429_with_retry_after_is_waited_out_and_retried(client, simulator):
    admin(
        simulator,
        "PUT",
        "faults",
        json={"rate_limit_rate": 0.5, "retry_after_seconds": 1, "seed": seed_where(0.5, "x.")},
    )
    started = time.monotonic()
    answer = publish(client, [outcome()])
    assert answer.status_code == 200 and answer.get_json()["written"] == 1
    assert answer.get_json()["salesforce_calls"] == 2
    assert time.monotonic() - started >= 1.0  # the Retry-After, not our millisecond backoff


def test_a_retry_after_longer_than_we_wait_is_passed_to_the_publisher(client, simulator):
    admin(simulator, "PUT", "faults", json={"rate_limit_rate": 1.0, "retry_after_seconds": 60})
    started = time.monotonic()
    answer = publish(client, [outcome()])
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "60"
    assert answer.content_type == "application/problem+json"
    assert time.monotonic() - started < 5


def test_503_then_success_is_retried(client, simulator):
    admin(simulator, "PUT", "faults", json={"error_rate": 0.5, "seed": seed_where(0.5, "xx.")})
    answer = publish(client, [outcome()])
    assert answer.status_code == 200 and answer.get_json()["salesforce_calls"] == 3
    assert "MAT-1|S1|web" in records(simulator)


def test_salesforce_down_is_a_503_so_the_publisher_keeps_the_batch(client, simulator):
    admin(simulator, "PUT", "faults", json={"error_rate": 1.0})
    answer = publish(client, [outcome()])
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert answer.get_json()["type"].endswith("/upstream-unavailable")
    admin(simulator, "PUT", "faults", json={"error_rate": 0.0})
    assert records(simulator) == {}


def test_usage_above_the_share_asks_to_slow_down_and_warns_once(settings, process_app, store, caplog):
    simulator = create_simulator(dataclasses.replace(settings, sf_sim_daily_api_limit=100))
    gateway = create_app(settings, process_app=process_app, salesforce_app=simulator, redis=store, client_options=FAST)
    simulator.extensions["salesforce_org"].usage.set_used(80)
    client = service_client(gateway)
    with caplog.at_level(logging.WARNING, logger="system_apis.salesforce.limits"):
        first = publish(client, [outcome()]).get_json()
        second = publish(client, [outcome(ms=1)]).get_json()
    assert first["slow_down"] is True and first["api_usage"] == {"used": 81, "limit": 100, "share": 0.81}
    assert second["slow_down"] is True
    warnings = [r for r in caplog.records if r.name == "system_apis.salesforce.limits"]
    assert len(warnings) == 1 and warnings[0].api_share == 0.81


def test_a_spent_daily_limit_is_a_503_with_retry_after(settings, process_app, store):
    simulator = create_simulator(dataclasses.replace(settings, sf_sim_daily_api_limit=10))
    gateway = create_app(settings, process_app=process_app, salesforce_app=simulator, redis=store, client_options=FAST)
    simulator.extensions["salesforce_org"].usage.set_used(10)
    answer = publish(service_client(gateway), [outcome()])
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    problem = answer.get_json()
    assert problem["type"].endswith("/salesforce-limit-exceeded")
    assert "TotalRequests Limit exceeded" in problem["detail"]


def _status_as_restricted_picklist():
    """The org's model with Status__c a restricted picklist, so an unknown status is refused per record."""
    objects = []
    for sobject in STANDARD_OBJECTS:
        if sobject.name == "Product_Availability__c":
            fields = tuple(
                Field("Status__c", PICKLIST, "Status", picklist=("in_stock", "low_stock", "out_of_stock"))
                if f.name == "Status__c"
                else f
                for f in sobject.own_fields
            )
            sobject = dataclasses.replace(sobject, own_fields=fields)
        objects.append(sobject)
    return OrgOptions(objects=tuple(objects))


def test_a_refused_record_is_dead_lettered_with_salesforces_message(settings, process_app, store):
    simulator = create_simulator(settings, options=_status_as_restricted_picklist())
    gateway = create_app(settings, process_app=process_app, salesforce_app=simulator, redis=store, client_options=FAST)
    outcomes = [outcome("MAT-1"), outcome("MAT-2", status="backorder_only"), outcome("MAT-3")]
    answer = publish(service_client(gateway), outcomes)
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["written"], body["dead_lettered"]) == (2, 1)
    [failed] = body["failed"]
    assert (failed["index"], failed["key"], failed["error_code"]) == (
        1,
        "MAT-2|S1|web",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    )
    assert "backorder_only" in failed["message"]
    assert set(records(simulator)) == {"MAT-1|S1|web", "MAT-3|S1|web"}
    entry = service_client(process_app).get(f"/inventory/v1/dead-letters/{failed['dead_letter_id']}").get_json()
    assert entry["reason"] == "invalid_or_null_for_restricted_picklist" and entry["source"] == "salesforce"
    assert entry["detail"] == failed["message"]
    assert entry["payload"]["outcome"]["status"] == "backorder_only"


def test_records_refused_for_lock_contention_are_sent_again_not_dead_lettered(client, simulator, process_client):
    # Records 0 and 2 of the first call meet a row lock; both pass when sent again.
    admin(simulator, "PUT", "faults", json={"lock_contention_rate": 0.3, "seed": seed_where(0.3, "x.x.........")})
    body = publish(client, [outcome(f"MAT-{n}") for n in range(10)]).get_json()
    assert (body["written"], body["dead_lettered"], body["failed"], body["salesforce_calls"]) == (10, 0, [], 2)
    assert len(records(simulator)) == 10
    assert process_client.get("/inventory/v1/dead-letters").get_json()["items"] == []


def test_platform_event_mode_publishes_inventory_availability_events(settings, process_app, simulator, store):
    gateway = create_app(
        dataclasses.replace(settings, salesforce_outbound="platform_event"),
        process_app=process_app,
        salesforce_app=simulator,
        redis=store,
        client_options=FAST,
    )
    outcomes = [outcome(f"MAT-{n}") for n in range(250)]
    body = publish(service_client(gateway), outcomes).get_json()
    assert (body["written"], body["salesforce_calls"]) == (250, 2)
    events = admin(simulator, "GET", "platform-events/Inventory_Availability__e")
    assert len(events) == 250 and events[0]["Availability_Key__c"] == "MAT-0|S1|web"
    assert records(simulator) == {}


class CountingRestCalls:
    """The simulator as a WSGI app that counts the REST requests reaching it, as they arrive."""

    def __init__(self, app) -> None:
        self.app, self.arrived = app, 0

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].startswith("/services/data/"):
            self.arrived += 1
        return self.app(environ, start_response)


def _over_http_with_latency(settings, process_app, store, simulator, **changes):
    """The system API writing to the simulator over real HTTP (a read timeout is a socket's), whose
    REST answers come later than the read timeout; the token is fetched before the latency starts."""
    counting = CountingRestCalls(simulator)
    with serving(counting) as url:
        gateway = create_app(
            dataclasses.replace(settings, salesforce_base_url=url, upstream_read_timeout_seconds=0.3, **changes),
            process_app=process_app,
            redis=store,
            client_options=FAST,
        )
        gateway.extensions["salesforce"].salesforce.tokens.current()
        simulator.extensions["salesforce_org"].faults.update(latency_ms=600)
        answer = publish(service_client(gateway), [outcome()])
    return answer, counting.arrived


def test_a_platform_event_publish_is_not_repeated_after_no_answer(settings, process_app, simulator, store):
    answer, arrived = _over_http_with_latency(
        settings, process_app, store, simulator, salesforce_outbound="platform_event"
    )
    assert answer.status_code == 503 and "may have been applied" in answer.get_json()["detail"]
    assert arrived == 1  # sent once, not repeated: a repeat could publish twice


def test_an_upsert_is_repeated_after_no_answer(settings, process_app, simulator, store):
    answer, arrived = _over_http_with_latency(settings, process_app, store, simulator)
    assert answer.status_code == 503 and answer.get_json()["type"].endswith("/upstream-unavailable")
    assert arrived == 3  # idempotent by external id: retried, as often as UPSTREAM_ATTEMPTS says


@pytest.mark.parametrize(
    "outcomes, where",
    [
        ([], None),
        ([outcome()] * 1001, None),
        ([{**outcome(), "location_group": "WEB-SHIP"}], "0"),
        ([outcome(), {**outcome(), "available_to_sell": "5"}], "1"),
        ([{**outcome(), "as_of": "2026-11-26T10:00:00"}], "0"),
    ],
)
def test_an_invalid_batch_is_refused_whole_with_the_item_named(client, simulator, outcomes, where):
    answer = publish(client, outcomes)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    errors = answer.get_json()["errors"]["json"]["outcomes"]
    if where is None:  # the batch's size
        assert isinstance(errors, list) and "Length" in errors[0]
    else:  # the one bad item, by its index
        assert list(errors) == [where]
    assert admin(simulator, "GET", "usage")["used"] == 0


def test_an_org_that_keeps_failing_opens_the_circuit(settings, process_app, simulator, store):
    counting = CountingRestCalls(simulator)
    gateway = create_app(
        settings,
        process_app=process_app,
        salesforce_app=counting,
        redis=store,
        client_options={**FAST, "breaker_fail_max": 2},
    )
    admin(simulator, "PUT", "faults", json={"error_rate": 1.0})
    first = publish(service_client(gateway), [outcome()])
    assert first.status_code == 503 and counting.arrived == 2  # the third try found the circuit open
    admin(simulator, "PUT", "faults", json={"error_rate": 0.0})
    second = publish(service_client(gateway), [outcome()])
    assert second.status_code == 503 and "circuit open" in second.get_json()["detail"]
    assert second.headers["Retry-After"] == "30" and counting.arrived == 2
