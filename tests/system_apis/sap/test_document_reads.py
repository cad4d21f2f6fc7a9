"""Material documents for concurrent pushes: those arriving while a read of SAP is in flight are read
together in the next one, each gets exactly its own document, and a failure reaches only those it
concerns (the SAP simulator in-process, its OData requests counted)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import unquote

import pytest

from shared.errors import Problem
from shared.tier_client import Timeouts
from system_apis.sap.app import ODATA_ROOT
from system_apis.sap.client import SapODataClient
from system_apis.sap.document_reads import DocumentReads, fetch_material_document
from tests.support.availability_receiver import wait_until
from tests.system_apis.sap.support import SAP_PASSWORD, SAP_USER, post_movement, sap_system


def sap_client(simulator, **options) -> SapODataClient:
    """A real SAP client of the in-process simulator."""
    return SapODataClient(app=simulator, root=ODATA_ROOT, user=SAP_USER, password=SAP_PASSWORD, **options)


class HeldReads:
    """DocumentReads (one read in flight at a time, unless told otherwise) over a real SAP client
    whose first request is held until `release()`, so that the pushes after it queue up behind a
    read in flight; every OData request is recorded."""

    def __init__(self, simulator, max_reads: int = 1) -> None:
        self.sap = sap_client(simulator, timeouts=Timeouts(1, 5), attempts=1)
        self.requests: list[str] = []
        self.first_started, self._gate = threading.Event(), threading.Event()
        send = self.sap.request

        def request(method, url, **options):
            self.requests.append(url)
            if len(self.requests) == 1:
                self.first_started.set()
                self._gate.wait(10)
            return send(method, url, **options)

        self.sap.request = request
        self.reads = DocumentReads(self.sap, max_reads=max_reads)
        self.pool = ThreadPoolExecutor(max_workers=12)

    def read_behind_first(self, first: tuple[str, str], others: list[tuple[str, str]]) -> list:
        """Read `first` (held in flight), then `others` while it is; every outcome (document or Problem)."""
        futures = [self.pool.submit(self.outcome, *first)]
        assert self.first_started.wait(5)
        futures += [self.pool.submit(self.outcome, *key) for key in others]
        assert wait_until(lambda: len(self.reads._waiting) == len(set(others)), timeout=5)
        self.release()
        return [future.result(timeout=10) for future in futures]

    def release(self) -> None:
        self._gate.set()

    def outcome(self, year: str, number: str):
        try:
            return self.reads.read(year, number)
        except Problem as problem:
            return problem


@pytest.fixture
def held(simulator):
    reads = HeldReads(simulator)
    yield reads
    reads.pool.shutdown(wait=True)


def key_read(simulator, key):
    return fetch_material_document(sap_client(simulator), *key)


def test_pushes_arriving_during_a_read_are_read_together_in_the_next_one(held, simulator):
    keys = [post_movement(simulator, "101", quantity) for quantity in range(1, 8)]
    documents = held.read_behind_first(keys[0], keys[1:])
    assert len(held.requests) == 2  # the held one by key, then the six waiting in one collection read
    assert "$filter=" in unquote(held.requests[1])
    assert documents == [key_read(simulator, key) for key in keys]
    assert [Decimal(document.items[0].record["QuantityInEntryUnit"]) for document in documents] == list(range(1, 8))


def test_a_document_sap_does_not_have_fails_only_its_own_push(held, simulator):
    first, present = post_movement(simulator, "101", 1), post_movement(simulator, "101", 2)
    missing = (present[0], "4999999999")
    outcomes = held.read_behind_first(first, [missing, present])
    assert outcomes[0] == key_read(simulator, first) and outcomes[2] == key_read(simulator, present)
    assert isinstance(outcomes[1], Problem) and outcomes[1].status == 404
    # absent from the shared read, it was read by key too, as a push on its own would have been
    assert len(held.requests) == 3 and "$filter=" not in unquote(held.requests[2])


def test_sap_failing_a_shared_read_fails_every_push_in_it_and_the_next_reads_succeed(held, simulator):
    keys = [post_movement(simulator, "101", quantity) for quantity in range(1, 5)]
    sap_system(simulator).faults.update(error_rate=1.0)  # the held first read fails too, when released
    outcomes = held.read_behind_first(keys[0], keys[1:])
    assert [(type(outcome), outcome.status) for outcome in outcomes] == [(Problem, 503)] * 4
    sap_system(simulator).faults.reset()
    assert [held.reads.read(*key) for key in keys] == [key_read(simulator, key) for key in keys]


def test_two_pushes_of_one_document_share_its_read(held, simulator):
    first, twice = post_movement(simulator, "101", 1), post_movement(simulator, "701", 3)
    outcomes = held.read_behind_first(first, [twice, twice])
    assert len(held.requests) == 2
    assert outcomes[1] == outcomes[2] == key_read(simulator, twice)


def test_a_push_waiting_longer_than_the_reads_can_take_asks_for_redelivery(held, simulator):
    first, waiting = post_movement(simulator, "101", 1), post_movement(simulator, "101", 2)
    held.reads.longest_wait = 0.2  # the held read outlasts it
    in_flight = held.pool.submit(held.outcome, *first)
    assert held.first_started.wait(5)
    answer = held.outcome(*waiting)
    assert isinstance(answer, Problem) and answer.status == 503 and answer.headers["Retry-After"] == "1"
    held.release()
    assert in_flight.result(timeout=10) == key_read(simulator, first)
    # nobody waits for the abandoned document any more: the next read does not carry it along
    later = post_movement(simulator, "101", 3)
    assert held.reads.read(*later) == key_read(simulator, later)
    assert "$filter=" not in unquote(held.requests[-1]) and len(held.requests) == 2
    assert held.reads.read(*waiting) == key_read(simulator, waiting)


def test_a_read_below_the_limit_goes_out_at_once_beside_one_in_flight(simulator):
    held = HeldReads(simulator, max_reads=2)
    try:
        first, second = post_movement(simulator, "101", 1), post_movement(simulator, "101", 2)
        in_flight = held.pool.submit(held.outcome, *first)
        assert held.first_started.wait(5)
        assert held.outcome(*second) == key_read(simulator, second)  # answered while the first is held
        held.release()
        assert in_flight.result(timeout=10) == key_read(simulator, first)
        assert len(held.requests) == 2
    finally:
        held.release()
        held.pool.shutdown(wait=True)
