"""A stand-in for the Salesforce system API's availability endpoint, for publisher tests: a real
Flask app implementing the contract (POST /salesforce/v1/availability, Idempotency-Key, 1–1000
outcomes, 200 once taken, 503 while "unavailable", 409 `stale-fence` for a batch whose publisher
fence is below one taken before), recording what it took per key in order.
Also the process API's own availability of an outcome key, to compare with what arrived."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import flask

from shared.errors import problem_type

PATH = "/salesforce/v1/availability"
FIELDS = (
    "sku",
    "location",
    "location_group",
    "channel",
    "available_to_sell",
    "available_to_order",
    "status",
    "as_of",
    "occurred_at",
)
#: (sku, location, location_group, channel)
Key = tuple[str, str | None, str | None, str]


def key_of(outcome: dict) -> Key:
    return outcome["sku"], outcome["location"], outcome["location_group"], outcome["channel"]


def _problem(status: int, detail: str, type_: str = "about:blank", **headers) -> flask.Response:
    response = flask.jsonify({"type": type_, "title": detail, "status": status, "detail": detail})
    response.status_code, response.content_type = status, "application/problem+json"
    response.headers.update(headers)
    return response


def _invalid(body) -> str | None:
    outcomes = body.get("outcomes") if isinstance(body, dict) else None
    if not isinstance(outcomes, list) or not 1 <= len(outcomes) <= 1000:
        return "outcomes must be a list of 1 to 1000"
    for outcome in outcomes:
        if not isinstance(outcome, dict) or set(outcome) != set(FIELDS):
            return f"an outcome must have exactly the fields {', '.join(FIELDS)}"
        if (outcome["location"] is None) == (outcome["location_group"] is None):
            return "an outcome names exactly one of location and location_group"
        if not all(isinstance(outcome[name], int) for name in ("available_to_sell", "available_to_order")):
            return "quantities must be integers"
        datetime.fromisoformat(outcome["as_of"])
    return None


class AvailabilityReceiver:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_key: dict[Key, list[dict]] = defaultdict(list)
        self.stored: dict[str, tuple[str, dict]] = {}  # Idempotency-Key -> (body digest, answer)
        self.requests = 0
        self.refused = 0
        self.replayed = 0
        self.fences: list[int] = []  # the publisher fence of each batch taken, in order
        self.fenced = 0  # batches refused for a stale fence
        self.in_flight = 0
        self.most_in_flight = 0
        self.refuse_next = 0  # answer this many requests 503, as when Salesforce is down
        self.reject_next = 0  # answer this many requests 422, as for a batch it can never take
        self.slow_down = False
        self.delay_seconds = 0.0  # how long taking a batch takes
        self.app = self._build()

    def _build(self) -> flask.Flask:
        app = flask.Flask(__name__)
        app.add_url_rule(PATH, "availability", self._take, methods=["POST"])
        return app

    def _take(self) -> flask.Response:
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay_seconds)
            return self._answer()
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self) -> flask.Response:
        key = flask.request.headers.get("Idempotency-Key")
        if not key:
            return _problem(400, "Idempotency-Key is required")  # as every API of ours answers
        body = flask.request.get_json(silent=True)
        try:
            invalid = _invalid(body)
        except (TypeError, ValueError) as error:
            invalid = str(error)
        if invalid:
            return _problem(422, invalid)
        digest = hashlib.sha256(flask.request.get_data()).hexdigest()
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.refused += 1
                return _problem(503, "Salesforce is unavailable", **{"Retry-After": "0"})
            if self.reject_next > 0:
                self.reject_next -= 1
                return _problem(422, "an outcome names an unknown channel")
            if key in self.stored:
                stored_digest, answer = self.stored[key]
                if stored_digest != digest:
                    return _problem(422, "Idempotency-Key reused with another body")
                self.replayed += 1
                return flask.jsonify(answer)
            fence = body.get("fence", 0)
            if self.fences and fence < max(self.fences):
                self.fenced += 1
                return _problem(409, "a newer publisher took over", problem_type("stale-fence"))
            self.fences.append(fence)
            for outcome in body["outcomes"]:
                self.by_key[key_of(outcome)].append(outcome)
            count = len(body["outcomes"])
            answer = {
                "received": count,
                "written": count,
                "dead_lettered": 0,
                "failed": [],
                "salesforce_calls": 1,
                "api_usage": {"used": self.requests, "limit": 100000, "share": self.requests / 100000},
                "slow_down": self.slow_down,
                "acknowledged_at": datetime.now(UTC).isoformat(),
            }
            self.stored[key] = (digest, answer)
        return flask.jsonify(answer)

    # -- what the tests look at --------------------------------------------------------------
    def history(self, key: Key) -> list[dict]:
        with self.lock:
            return list(self.by_key.get(key, ()))

    def last_values(self) -> dict[Key, tuple[int, int, str]]:
        with self.lock:
            return {key: _value(outcomes[-1]) for key, outcomes in self.by_key.items()}

    def outcome_count(self) -> int:
        with self.lock:
            return sum(len(outcomes) for outcomes in self.by_key.values())


def _value(outcome: dict) -> tuple[int, int, str]:
    return outcome["available_to_sell"], outcome["available_to_order"], outcome["status"]


def availability_of(get: Callable[..., dict], key: Key) -> tuple[int, int, str]:
    """The process API's availability of one outcome key; `get(params)` returns GET /availability's JSON."""
    sku, location, group, channel = key
    if location:
        [found] = get({"sku": sku, "location": location, "channel": channel})["positions"]
    else:
        [found] = get({"sku": sku, "location_group": group, "channel": channel})["groups"]
    return _value(found)


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, interval: float = 0.02) -> bool:
    """Poll `condition` until it holds or `timeout` passes; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
