"""A reservation whose request died half-way (issue 13, point 4): the worker held the stock, then was
killed (or froze) before it made the reservation active, with its Idempotency-Key still in flight.

The request is stopped for real, in a thread, just before its activation: the test wraps the store's
`activate` so that it waits for the test's word. Until then Redis holds exactly what a killed worker
leaves behind (the pending header, the held units, the in-flight key). Past the request's deadline
(IDEMPOTENCY_LOCK_SECONDS) the sweeper rolls the reservation back, a same-key retry gets the one
reservation, and the request, should it wake up after all, fails cleanly."""

from __future__ import annotations

import threading

import pytest

from gateway.settings import Settings
from process_apis.inventory.app import create_app
from process_apis.inventory.service.reservations import expire_due
from shared.auth.credentials import IN_PROCESS_CLIENT_ID
from shared.redis import create_redis
from tests.process_apis.inventory.support import V1, assert_problem, position, receive, reserve
from tests.support.auth import service_client
from tests.support.availability_receiver import wait_until

LOCK_SECONDS = 1  # the request's deadline, short so the tests need not wait long for it
TIMEOUT = 10


@pytest.fixture
def app(redis_url, request):
    lock_seconds = getattr(request, "param", LOCK_SECONDS)
    settings = Settings.from_env({"REDIS_URL": redis_url, "IDEMPOTENCY_LOCK_SECONDS": str(lock_seconds)})
    return create_app(settings, create_redis(settings))


class StoppedRequest:
    """A reservation request run in a thread that stops before its activation, until `resume()`."""

    def __init__(self, app, lines, key: str, external_ref: str = "ORDER-1") -> None:
        self.inventory = app.extensions["inventory"]
        self.go_on, self.stopped = threading.Event(), threading.Event()
        activate = self.inventory.reservations.activate

        def stopped_activate(*args, **kwargs):
            self.stopped.set()
            assert self.go_on.wait(TIMEOUT)
            return activate(*args, **kwargs)

        self.inventory.reservations.activate = stopped_activate
        self.response = None
        client = service_client(app)

        def run():
            self.response = reserve(client, *lines, key=key, external_ref=external_ref)

        self.thread = threading.Thread(target=run, name="stopped-reservation", daemon=True)
        self.thread.start()
        assert self.stopped.wait(TIMEOUT), "the request never reached its activation"
        self.inventory.reservations.activate = activate  # only this request stops

    def resume(self):
        self.go_on.set()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()
        return self.response

    def pending_ids(self) -> list[str]:
        redis = self.inventory.reservations.redis
        headers = [key for key in redis.scan_iter("inv:res:*") if redis.hget(key, "status") == "pending"]
        return [key.split("{")[1].rstrip("}") for key in headers]


def lock_of(key: str) -> str:
    return f"idem:{{{IN_PROCESS_CLIENT_ID}:{key}}}"


ONE_SKU = [{"sku": "MAT-1", "location": "S1", "quantity": 4}]
TWO_SKUS = [*ONE_SKU, {"sku": "MAT-2", "location": "S1", "quantity": 2}]


@pytest.mark.parametrize("lines", [ONE_SKU, TWO_SKUS], ids=["one-sku", "two-skus"])
def test_a_reservation_whose_request_died_is_rolled_back_by_the_sweeper_after_its_deadline(app, network, lines):
    receive(network, 10, sku="MAT-1")
    receive(network, 10, sku="MAT-2")
    request = StoppedRequest(app, lines, key="died-1")
    [abandoned] = request.pending_ids()
    assert position(network, sku="MAT-1")["reserved"] == 4  # held, never activated

    assert wait_until(lambda: expire_due(app.extensions["inventory"]) == 1, timeout=TIMEOUT)

    assert position(network, sku="MAT-1")["reserved"] == 0
    assert position(network, sku="MAT-2")["reserved"] == 0
    assert app.extensions["inventory"].reservations.get(abandoned)["status"] == "rejected"
    assert_problem(network.get(f"{V1}/reservations/{abandoned}"), 404)
    assert not app.extensions["redis"].exists(f"inv:{{MAT-1}}:hold:{abandoned}")
    assert expire_due(app.extensions["inventory"]) == 0  # once

    # The request wakes up after all: it cannot bring its reservation back, and says so (not 5xx).
    body = assert_problem(request.resume(), 409)
    assert body["type"].endswith("/reservation-abandoned")
    assert position(network, sku="MAT-1")["reserved"] == 0
    assert position(network, sku="MAT-2")["reserved"] == 0
    assert_problem(network.get(f"{V1}/reservations/{abandoned}"), 404)
    # That answer is not kept under the key: the client's retry with it makes the reservation.
    retry = reserve(network, *lines, key="died-1")
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert position(network, sku="MAT-1")["reserved"] == 4


def test_a_woken_request_cannot_hold_again_for_its_abandoned_reservation(app, network):
    receive(network, 10)
    inventory = app.extensions["inventory"]
    request = StoppedRequest(app, ONE_SKU, key="died-4")
    [abandoned] = request.pending_ids()
    assert wait_until(lambda: expire_due(inventory) == 1, timeout=TIMEOUT)

    # What the request would send should it wake up in its contention loop and hold again.
    line = {"qty": 4, "partial": False, "strategy": "priority", "fence": 0, "cands": [{"loc": "S1"}]}
    reply = inventory.ledger.hold("MAT-1", {"res": abandoned, "ch": "web", "pending": False, "lines": [line]})

    assert (reply["ok"], reply.get("void")) == (False, True)
    assert position(network)["reserved"] == 0
    assert_problem(request.resume(), 409)


def test_a_retry_with_the_same_key_after_the_deadline_holds_the_stock_once(app, network):
    receive(network, 10)
    request = StoppedRequest(app, ONE_SKU, key="died-2")
    [abandoned] = request.pending_ids()
    redis = app.extensions["redis"]
    assert redis.exists(lock_of("died-2"))
    # The client retries once the key is free again (its lock has run out), before any sweep.
    assert wait_until(lambda: not redis.exists(lock_of("died-2")), timeout=TIMEOUT)

    retry = reserve(network, *ONE_SKU, key="died-2")

    assert retry.status_code == 201, retry.get_json()
    assert position(network)["reserved"] == 4  # the retry's reservation alone, not 8
    assert app.extensions["inventory"].reservations.get(abandoned)["status"] == "rejected"
    # The first request wakes up: it fails cleanly and does not overwrite the retry's answer.
    assert_problem(request.resume(), 409)
    assert position(network)["reserved"] == 4
    replay = reserve(network, *ONE_SKU, key="died-2")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json() == retry.get_json()
    assert network.get(f"{V1}/reservations/{retry.get_json()['id']}").get_json()["status"] == "active"
    assert expire_due(app.extensions["inventory"]) == 0


@pytest.mark.parametrize("app", [30], indirect=True)  # the default deadline
def test_a_slow_request_within_its_deadline_is_left_alone(app, network):
    api = network
    receive(api, 10)
    request = StoppedRequest(app, ONE_SKU, key="slow-1")

    assert expire_due(app.extensions["inventory"]) == 0
    assert position(api)["reserved"] == 4

    response = request.resume()
    assert response.status_code == 201, response.get_json()
    assert position(api)["reserved"] == 4
    assert api.get(f"{V1}/reservations/{response.get_json()['id']}").get_json()["status"] == "active"


def test_a_sweep_that_stopped_between_the_fence_and_the_holds_is_finished_by_the_next(app, network):
    receive(network, 10)
    inventory = app.extensions["inventory"]
    request = StoppedRequest(app, ONE_SKU, key="died-3")
    [abandoned] = request.pending_ids()
    # A sweeper died right after its fence: the header says rejected, the units are still held.
    header = inventory.reservations.get(abandoned)
    header["status"] = "rejected"
    assert inventory.reservations.transition(header, ("pending",))[0]
    assert position(network)["reserved"] == 4

    assert wait_until(lambda: expire_due(inventory) == 0 and position(network)["reserved"] == 0, timeout=TIMEOUT)
    assert not app.extensions["redis"].zscore("inv:res-expiry", abandoned)
    assert_problem(request.resume(), 409)
    assert position(network)["reserved"] == 0
