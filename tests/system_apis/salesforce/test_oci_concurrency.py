"""Concurrent repeats of one actionRequestId: a repeat while the first is still in the process API
is told to come back (503 + Retry-After), never answered "failed", and the first answer stays."""

from __future__ import annotations

import threading

import pytest

from process_apis.inventory.api import reservations as reservations_api
from system_apis.salesforce.actions import ActionStore
from tests.support.auth import service_client
from tests.system_apis.salesforce.support import reserve, reserved_at

WAIT_SECONDS = 10


@pytest.fixture
def slowed_reservations(monkeypatch):
    """The process API's reservation service held until the test lets it go, once it has started."""
    started, go_on = threading.Event(), threading.Event()
    create = reservations_api.service.create

    def held(*args, **kwargs):
        started.set()
        assert go_on.wait(WAIT_SECONDS), "the test never let the first reservation finish"
        return create(*args, **kwargs)

    monkeypatch.setattr(reservations_api.service, "create", held)
    return started, go_on


def test_a_repeat_while_the_first_is_in_flight_is_a_503_to_retry_not_a_failure(
    gateway, stocked, process_client, slowed_reservations
):
    started, go_on = slowed_reservations
    answers = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", reserve(service_client(gateway), "act-1")))
    first.start()
    try:
        assert started.wait(WAIT_SECONDS)
        repeat = reserve(service_client(gateway), "act-1")
    finally:
        go_on.set()
        first.join(WAIT_SECONDS)

    assert repeat.status_code == 503
    assert repeat.get_json()["type"].endswith("/action-in-flight")
    assert repeat.headers["Retry-After"] == "1"
    assert answers["first"].status_code == 200 and answers["first"].get_json()["success"] is True
    replay = reserve(service_client(gateway), "act-1")
    assert replay.get_json() == answers["first"].get_json()
    assert reserved_at(process_client) == 2


def test_the_first_answer_stored_stays_when_a_concurrent_repeat_finishes_later(store):
    actions = ActionStore(store, ttl_seconds=60)
    request = {"actionRequestId": "act-9"}

    def late_duplicate(plan: dict) -> dict:
        # While this run executes, a concurrent repeat finishes first and stores its answer.
        actions.run("reservation", "act-9", request, plan=dict, execute=lambda _: {"success": True})
        return {"success": False}

    assert actions.run("reservation", "act-9", request, plan=dict, execute=late_duplicate) == {"success": True}
    assert actions.run("reservation", "act-9", request, plan=dict, execute=lambda _: {"success": False}) == {
        "success": True
    }
