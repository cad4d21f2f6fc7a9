"""The tier client over real HTTP and in-process: retries only where safe, breaker, timeouts,
correlation and trace propagation, upstream problems passed up."""

from __future__ import annotations

import os
import threading
import time

import flask
import pytest
from werkzeug.serving import make_server

from shared.errors import Problem
from shared.tier_client import TierClient, Timeouts, session_for


def _upstream_app(calls: list, failures: dict):
    app = flask.Flask("upstream")

    @app.route("/echo", methods=["GET", "POST"])
    def echo():
        calls.append(dict(flask.request.headers))
        if failures.get("remaining", 0) > 0:
            failures["remaining"] -= 1
            return (
                {"detail": "busy"},
                503,
                {"Retry-After": failures["retry_after"]} if "retry_after" in failures else {},
            )
        return {"method": flask.request.method, "json": flask.request.get_json(silent=True)}

    @app.route("/slow")
    def slow():
        calls.append({})
        time.sleep(0.5)
        return {}

    @app.route("/conflict", methods=["POST"])
    def conflict():
        body = {
            "type": "https://inventory-gateway.dev/problems/insufficient-stock",
            "title": "Conflict",
            "status": 409,
            "detail": "short",
            "shortfalls": [{"line": 0}],
        }
        return flask.Response(flask.json.dumps(body), 409, content_type="application/problem+json")

    return app


@pytest.fixture
def upstream():
    calls, failures = [], {}
    server = make_server("127.0.0.1", 0, _upstream_app(calls, failures), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", calls, failures
    server.shutdown()


def test_get_is_retried_through_transient_503s(upstream):
    base, calls, failures = upstream
    failures["remaining"] = 2
    response = TierClient("up", base, attempts=3).request("GET", "/echo")
    assert response.json()["method"] == "GET"
    assert len(calls) == 3


def test_a_retry_after_beyond_the_backoff_budget_is_passed_up_not_retried(upstream):
    base, calls, failures = upstream
    failures.update(remaining=3, retry_after="600")
    with pytest.raises(Problem) as raised:
        TierClient("up", base, attempts=3, max_retry_wait=2.0).request("GET", "/echo")
    assert raised.value.status == 503 and raised.value.headers["Retry-After"] == "600"
    assert len(calls) == 1


def test_a_retry_after_within_the_budget_is_waited_before_the_retry(upstream):
    base, calls, failures = upstream
    failures.update(remaining=1, retry_after="1")
    started = time.monotonic()
    response = TierClient("up", base, attempts=3, max_retry_wait=2.0).request("GET", "/echo")
    assert response.json()["method"] == "GET" and len(calls) == 2
    assert time.monotonic() - started >= 1.0


def test_post_without_idempotency_key_is_not_retried(upstream):
    base, calls, failures = upstream
    failures["remaining"] = 1
    with pytest.raises(Problem) as raised:
        TierClient("up", base, attempts=3).request("POST", "/echo", json={"a": 1})
    assert raised.value.status == 503 and len(calls) == 1


def test_post_with_idempotency_key_is_retried_and_carries_the_key(upstream):
    base, calls, failures = upstream
    failures["remaining"] = 1
    response = TierClient("up", base, attempts=3).request("POST", "/echo", json={"a": 1}, idempotency_key="k-1")
    assert response.json()["json"] == {"a": 1}
    assert [c["Idempotency-Key"] for c in calls] == ["k-1", "k-1"]


def test_read_timeout_becomes_a_503_problem(upstream):
    base, calls, _ = upstream
    client = TierClient("up", base, attempts=2, timeouts=Timeouts(connect=1, read=0.1))
    with pytest.raises(Problem) as raised:
        client.request("GET", "/slow")
    assert raised.value.status == 503 and raised.value.extensions["upstream"] == "up"
    assert len(calls) == 2


def test_breaker_opens_and_stops_calling_a_failing_upstream(upstream):
    base, calls, failures = upstream
    failures["remaining"] = 100
    client = TierClient("up", base, attempts=1, breaker_fail_max=3, breaker_reset_seconds=60)
    for _ in range(5):
        with pytest.raises(Problem):
            client.request("GET", "/echo")
    assert len(calls) == 3
    with pytest.raises(Problem) as raised:
        client.request("GET", "/echo")
    assert "circuit open" in raised.value.detail and len(calls) == 3


def test_upstream_problem_is_passed_up_with_its_status_type_and_members(upstream):
    base, _, _ = upstream
    with pytest.raises(Problem) as raised:
        TierClient("up", base).request("POST", "/conflict", json={})
    problem = raised.value
    assert problem.status == 409 and problem.type.endswith("/insufficient-stock")
    assert problem.extensions["shortfalls"] == [{"line": 0}] and problem.extensions["upstream"] == "up"


def test_unreachable_upstream_is_a_503_problem():
    client = TierClient("gone", "http://127.0.0.1:9", attempts=2, timeouts=Timeouts(connect=0.2, read=0.2))
    with pytest.raises(Problem) as raised:
        client.request("GET", "/echo")
    assert raised.value.status == 503


def test_in_process_transport_keeps_the_http_contract_and_propagates_context():
    calls, failures = [], {}
    client = TierClient("inner", app=_upstream_app(calls, failures))
    outer = flask.Flask("outer")
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    with outer.test_request_context(headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}):
        flask.g.correlation_id = "corr-42"
        response = client.request("POST", "/echo", json={"sku": "MAT-1"})
    assert response.status_code == 200 and response.json() == {"method": "POST", "json": {"sku": "MAT-1"}}
    sent = calls[0]
    assert sent["X-Correlation-Id"] == "corr-42"
    assert sent["Traceparent"].startswith(f"00-{trace_id}-") and not sent["Traceparent"].endswith("00f067aa0ba902b7-01")


def test_an_http_session_reads_proxies_and_ca_bundle_from_the_environment_once(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    for name in [name for name in os.environ if name.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "sap.internal")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))

    external, internal = session_for("https://login.salesforce.com"), session_for("https://sap.internal/odata")
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:3128")  # read once: a later change is not seen

    assert external.proxies["https"] == "http://proxy.example:3128"
    assert internal.proxies == {}
    assert external.verify == internal.verify == str(bundle)
    assert not external.trust_env  # so requests does not scan the environment again on each call
