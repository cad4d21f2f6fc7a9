"""The Order Management driver against a minimal OCI-shaped gateway served over HTTP: orders are
reserved then fulfilled or released, and retries reuse the same actionRequestId."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask, jsonify, request

from simulators.salesforce import driver
from simulators.salesforce.driver import OCI_ROOT, run_orders
from tests.support.processes import serving

SKUS, LOCATIONS = ("MAT-1001", "MAT-1002", "MAT-1003"), ("S001", "S002")


@dataclass
class FakeOci:
    """Applies each actionRequestId once; fails some first attempts; remembers everything it saw."""

    fail_first_attempt_every: int = 0  # the first attempt of every n-th new action id answers `failure`
    failure: tuple[int, dict] = (503, {})  # status, headers
    always_fail: bool = False
    sold_out: frozenset = frozenset()  # SKUs whose reservations are refused
    refuse_settlements: bool = False  # releases and fulfilments answer every record as an error
    attempts: Counter = field(default_factory=Counter)
    applied: dict = field(default_factory=dict)  # action id -> (kind, externalRefId)
    reserved_orders: set = field(default_factory=set)
    attempt_times: dict = field(default_factory=dict)  # action id -> monotonic times of its attempts
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("fake_oci")

        @app.post(f"{OCI_ROOT}/<kind>")
        def action(kind: str):
            body = request.get_json()
            records = body.get("createRecords") or body.get("releaseRecords") or body.get("fulfillmentRecords")
            ids = [body["actionRequestId"]] if kind == "reservations" else [r["actionRequestId"] for r in records]
            with self.lock:
                for action_id in ids:
                    self.attempts[action_id] += 1
                    self.attempt_times.setdefault(action_id, []).append(time.monotonic())
                first = self.attempts[ids[0]] == 1
                if self.always_fail or (
                    first and self.fail_first_attempt_every and len(self.attempts) % self.fail_first_attempt_every == 0
                ):
                    status, headers = self.failure
                    return jsonify({"title": "try again"}), status, headers
                if kind == "reservations" and any(r["stockKeepingUnit"] in self.sold_out for r in records):
                    return jsonify({"success": False, "errors": [{"code": "insufficient"}]}), 200
                if kind != "reservations" and self.refuse_settlements:
                    return jsonify({"successes": [], "errors": [{"errorCode": "NOT_FOUND"} for _ in ids]}), 200
                order = records[0]["externalRefId"] if kind != "reservations" else body["externalRefId"]
                for action_id in ids:
                    self.applied.setdefault(action_id, (kind, order))
                if kind == "reservations":
                    self.reserved_orders.add(order)
            if kind == "reservations":
                return jsonify({"success": True, "actionRequestId": ids[0], "errors": []}), 201
            return jsonify({"successes": [{"actionRequestId": i} for i in ids], "errors": []}), 200

        return app


@pytest.fixture
def fake() -> FakeOci:
    return FakeOci()


@pytest.fixture
def gateway(fake) -> Iterator[str]:
    with serving(fake.app()) as url:
        yield url


def orders(gateway: str, **kwargs):
    options = {
        "rate": 2000,
        "duration": 20,
        "skus": SKUS,
        "locations": LOCATIONS,
        "seed": 4,
        "max_orders": 40,
        "backoff_seconds": 0.001,
        **kwargs,
    }
    return run_orders(gateway, **options)


def test_orders_are_reserved_then_fulfilled_or_released(gateway, fake):
    result = orders(gateway)
    assert result.errors == 0 and result.rejected == 0
    assert result.reserved == result.orders > 0 and result.fulfilled > 0 and result.released > 0
    assert result.orders + result.fulfilled + result.released == 40
    settled = {order for kind, order in fake.applied.values() if kind != "reservations"}
    assert settled <= fake.reserved_orders  # nothing is settled that was not reserved first


def test_a_failed_first_attempt_is_retried_with_the_same_action_request_id(gateway, fake):
    fake.fail_first_attempt_every = 3
    result = orders(gateway)
    assert result.errors == 0 and result.retries > 0
    retried = {action_id for action_id, n in fake.attempts.items() if n > 1}
    assert retried and all(fake.attempts[a] == 2 for a in retried)
    assert retried <= set(fake.applied)  # the retry, with the same id, is what got applied
    assert result.attempts == fake.attempts  # the driver never sent an id the gateway did not see, or vice versa


def test_open_orders_are_bounded_by_settling_the_oldest(gateway, fake):
    result = orders(gateway, max_orders=300, max_open_orders=5)
    settled = {order for kind, order in fake.applied.values() if kind != "reservations"}
    assert result.reserved > 100
    assert len(fake.reserved_orders - settled) <= 5


def test_retries_are_bounded(gateway, fake):
    fake.always_fail = True
    result = orders(gateway, max_orders=5, attempts=3)
    assert result.errors == 5 and result.reserved == 0
    assert set(fake.attempts.values()) == {3}


def test_retry_after_of_a_429_is_waited_for(gateway, fake):
    fake.fail_first_attempt_every, fake.failure = 1, (429, {"Retry-After": "0.2"})
    result = orders(gateway, max_orders=2)
    assert result.errors == 0 and result.retries == 2
    for times in fake.attempt_times.values():
        assert times[1] - times[0] >= 0.2


def test_refused_reservations_are_counted_and_never_settled(gateway, fake):
    fake.sold_out = frozenset(SKUS[:2])
    result = orders(gateway, skus=SKUS[:2])
    assert result.rejected == result.orders == 40 and result.fulfilled == result.released == 0


def test_settlements_answered_with_record_errors_are_counted_as_refused(gateway, fake):
    fake.refuse_settlements = True
    result = orders(gateway)
    assert result.fulfilled == result.released == 0
    assert result.reserved == result.orders and result.rejected == 40 - result.orders > 0


def test_the_driver_keeps_its_pace(gateway):
    result = orders(gateway, rate=40, duration=0.5, max_orders=None)
    assert 0.5 <= result.elapsed_seconds < 1.5
    assert 15 <= result.orders + result.fulfilled + result.released <= 21


def test_command_line_prints_the_counts(gateway, capsys):
    assert (
        driver.main(
            [
                "--gateway-url",
                gateway,
                "--rate",
                "500",
                "--duration",
                "5",
                "--max-orders",
                "10",
                "--skus",
                ",".join(SKUS),
                "--locations",
                "S001",
            ]
        )
        == 0
    )
    counts = json.loads(capsys.readouterr().out)
    assert counts["orders"] + counts["fulfilled"] + counts["released"] == 10 and counts["errors"] == 0
