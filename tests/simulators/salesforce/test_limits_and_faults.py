"""API usage (Sforce-Limit-Info, REQUEST_LIMIT_EXCEEDED) and injected faults (503, 429, latency)."""

from __future__ import annotations

import time

import pytest

from tests.simulators.salesforce.support import TOKEN_PATH, error_code


@pytest.fixture
def settings_overrides():
    return {"sf_sim_daily_api_limit": 3}


def test_every_rest_call_counts_once_and_says_so(rest):
    assert rest.get("/sobjects/").headers["Sforce-Limit-Info"] == "api-usage=1/3"
    assert rest.get("/sobjects/Basket__c/x").headers["Sforce-Limit-Info"] == "api-usage=2/3"  # errors count too
    assert rest.admin("GET", "/usage").json == {"used": 2, "limit": 3, "header": "api-usage=2/3"}


def test_the_token_endpoint_and_unauthenticated_calls_do_not_count(rest):
    rest.login()
    rest.token = "nonsense"
    assert rest.get("/sobjects/").status_code == 401
    assert rest.org.usage.used == 0


def test_past_the_daily_limit_calls_are_refused_with_403(rest):
    for _ in range(3):
        assert rest.get("/sobjects/").status_code == 200
    answer = rest.get("/sobjects/")
    assert answer.status_code == 403
    assert answer.json == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert answer.headers["Sforce-Limit-Info"] == "api-usage=3/3"


def test_the_daily_count_starts_over_the_next_day(rest, clock):
    for _ in range(3):
        rest.get("/sobjects/")
    clock.advance(15 * 3600)  # 09:00 + 15 h: past midnight UTC
    rest.login()
    assert rest.get("/sobjects/").headers["Sforce-Limit-Info"] == "api-usage=1/3"


def test_the_error_fault_answers_503_server_unavailable_without_counting(rest):
    rest.admin("PUT", "/faults", json={"error_rate": 1.0})
    answer = rest.get("/sobjects/")
    assert answer.status_code == 503 and error_code(answer) == "SERVER_UNAVAILABLE"
    assert rest.org.usage.used == 0


def test_the_rate_limit_fault_answers_429_with_retry_after(rest):
    rest.admin("PUT", "/faults", json={"rate_limit_rate": 1.0, "retry_after_seconds": 7})
    answer = rest.get("/sobjects/")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert error_code(answer) == "REQUEST_LIMIT_EXCEEDED"


def test_the_same_seed_injects_the_same_faults(app, rest):
    def statuses() -> list[int]:
        rest.admin("PUT", "/faults", json={"error_rate": 0.5, "seed": 42})
        return [rest.get("/").status_code for _ in range(3)] + [rest.get("/limits").status_code]

    rest.org.usage.limit = 1000
    first = statuses()
    assert first == statuses() and set(first) == {200, 503}


def test_the_token_endpoint_fails_only_when_asked_to(rest):
    rest.org.faults.update(error_rate=1.0)
    rest.login()  # not affected by default
    rest.org.faults.update(include_token_endpoint=True)
    answer = rest.client.post(
        TOKEN_PATH, data={"grant_type": "client_credentials"}, auth=(rest.org.client_id, rest.org.client_secret)
    )
    assert answer.status_code == 503 and answer.json["error"] == "temporarily_unavailable"


@pytest.mark.parametrize("body", [{"error_rate": 2}, {"latency_ms": -1}, {"typo_rate": 0.1}])
def test_bad_fault_settings_are_refused_as_problems(rest, body):
    answer = rest.admin("PUT", "/faults", json=body)
    assert answer.status_code == 400 and answer.content_type == "application/problem+json"
    assert rest.admin("GET", "/faults").json["error_rate"] == 0.0


def test_latency_is_added_to_rest_calls(rest):
    rest.org.faults.update(latency_ms=150)
    started = time.monotonic()
    rest.get("/")
    assert time.monotonic() - started >= 0.15


def test_the_lock_contention_fault_refuses_collection_records_with_unable_to_lock_row(rest):
    rest.admin("PUT", "/faults", json={"lock_contention_rate": 1.0})
    records = [
        {
            "attributes": {"type": "Product_Availability__c"},
            "Availability_Key__c": f"MAT-{n}|S1|web",
            "SKU__c": f"MAT-{n}",
            "Location__c": "S1",
        }
        for n in range(2)
    ]
    answer = rest.patch(
        "/composite/sobjects/Product_Availability__c/Availability_Key__c", {"allOrNone": False, "records": records}
    )
    assert answer.status_code == 200
    assert [(result["success"], result["errors"][0]["statusCode"]) for result in answer.json] == [
        (False, "UNABLE_TO_LOCK_ROW")
    ] * 2
    rest.admin("PUT", "/faults", json={"lock_contention_rate": 0.0})
    again = rest.patch(
        "/composite/sobjects/Product_Availability__c/Availability_Key__c", {"allOrNone": False, "records": records}
    )
    assert [result["success"] for result in again.json] == [True, True]
