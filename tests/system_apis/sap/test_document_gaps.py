"""Gaps in SAP's material-document numbers: a push the broker lost is found by its number and read
from SAP, without a stock sync; a number SAP never used is read a bounded number of times and closed.

The SAP simulator pushes to the webhook in-process, the store is the real redis-server, and the gap
check is driven round by round (with the clock it is given), never by sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from process_apis.inventory.app import create_app as create_process_app
from shared.redis import create_redis
from shared.tier_client import WSGITransport
from system_apis.sap.app import create_app
from system_apis.sap.document_gaps import DocumentGaps
from system_apis.sap.gap_check import check_document_gaps
from tests.support.auth import service_client
from tests.system_apis.sap.support import (
    LOCATIONS,
    cloud_event,
    make_settings,
    nonzero,
    positions,
    post_movement,
    push,
    sap_positions,
    sap_system,
)

MAX_READS = 3
CHECK_SECONDS = 5.0


class CountingReads:
    """SAP's OData app, counting the reads of a range of document numbers (the gap reads)."""

    def __init__(self, app) -> None:
        self.app, self.range_reads = app, []

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if "MaterialDocument%20ge%20" in query:
            self.range_reads.append(query)
        return self.app(environ, start_response)

    @property
    def extensions(self):
        return self.app.extensions


@pytest.fixture
def wired(redis_url, simulator):
    """(SAP system API, process API, counted SAP) on the real Redis, the simulator pushing to the webhook."""
    settings = make_settings(redis_url=redis_url, sap_gap_max_reads=MAX_READS, sap_gap_check_seconds=CHECK_SECONDS)
    redis = create_redis(settings)
    process_app = create_process_app(settings, redis)
    for location in LOCATIONS:
        assert (
            service_client(process_app).put(f"/inventory/v1/locations/{location}", json={"type": "store"}).status_code
        )
    counted = CountingReads(simulator)
    api = create_app(settings, process_app=process_app, sap_app=counted, redis=redis)
    broker = sap_system(simulator).events
    broker.session.mount("http://gateway", WSGITransport(api))
    broker.subscribe("http://gateway/sap/v1/business-events")
    return api, process_app, counted


class Rounds:
    """The gap check, one round at a time, each a check interval later than the one before."""

    def __init__(self, api) -> None:
        self.system, self.now = api.extensions["sap"], time.time()

    def __call__(self) -> dict:
        self.now += CHECK_SECONDS
        return check_document_gaps(self.system, now=self.now)


def test_pushes_the_broker_dropped_are_read_from_sap_until_positions_equal_sap_stock(wired, simulator):
    api, process_app, _ = wired
    rounds = Rounds(api)
    rounds()  # the gateway's first round: SAP's numbers are tracked from here
    sap = sap_system(simulator)
    sap.faults.update(drop_rate=0.25, seed=3)
    for number in range(30):
        post_movement(simulator, "251" if number % 3 == 2 else "101", 2 + number % 4)
    assert sap.flush(timeout=20)
    dropped = sap.events.stats()["dropped"]
    assert dropped >= 5
    assert nonzero(positions(process_app)) != nonzero(sap_positions(simulator))

    first, second = rounds(), rounds()

    assert first["documents_recovered"] + second["documents_recovered"] == dropped
    assert nonzero(positions(process_app)) == nonzero(sap_positions(simulator))  # no stock sync ran


def test_the_newest_document_s_dropped_push_is_found_by_reading_past_the_highest_number(wired, simulator):
    api, process_app, _ = wired
    rounds = Rounds(api)
    post_movement(simulator, "101", 7)
    assert sap_system(simulator).flush(timeout=10)
    sap_system(simulator).faults.update(drop_rate=1.0)
    post_movement(simulator, "101", 5)  # no later document will reveal this one
    assert sap_system(simulator).flush(timeout=10)
    assert positions(process_app)["S1"]["on_hand"] == 7

    rounds(), rounds()

    assert positions(process_app)["S1"]["on_hand"] == 12


def test_a_late_push_closes_its_gap_without_a_read(wired, simulator):
    api, process_app, counted = wired
    sap = sap_system(simulator)
    sap.events.unsubscribe(sap.events.subscriptions()[0].id)  # this test pushes by hand, out of order
    webhook = service_client(api)
    keys = [post_movement(simulator, "101", quantity) for quantity in (1, 2, 4)]
    for year, number in (keys[0], keys[2]):
        assert push(webhook, cloud_event(year, number)).status_code == 200
    assert api.extensions["sap"].gaps.open_gaps(keys[0][0]) == [(int(keys[1][1]), int(keys[1][1]))]

    assert push(webhook, cloud_event(*keys[1])).status_code == 200
    report = Rounds(api)()

    assert api.extensions["sap"].gaps.open_gaps(keys[0][0]) == []
    assert report["gaps_read"] == 0 and counted.range_reads == []
    assert positions(process_app)["S1"]["on_hand"] == 7


def test_a_number_sap_never_used_is_read_at_most_max_reads_times_then_closed(wired, simulator):
    api, process_app, counted = wired
    sap = sap_system(simulator)
    rounds = Rounds(api)
    rounds()  # SAP's numbers are tracked from here, whichever push lands first
    post_movement(simulator, "101", 3)
    sap.faults.update(skip_number_rate=1.0)  # a buffered number range lost its buffer
    year, number = post_movement(simulator, "101", 4)
    sap.faults.update(skip_number_rate=0.0)
    assert sap.flush(timeout=10)
    gaps = api.extensions["sap"].gaps
    skipped = int(number) - 1
    [(first, last)] = [gap for gap in gaps.open_gaps(year) if gap[1] == skipped]

    reports = [rounds() for _ in range(MAX_READS + 3)]  # each round a check interval after the last

    assert len([query for query in counted.range_reads if f"ge%20'{first:010d}'" in query]) == MAX_READS
    closed = [gap for report in reports for gap in report["gaps_closed"]]
    assert {"year": year, "first": f"{first:010d}", "last": f"{last:010d}"} in closed
    assert [report["gaps_read"] for report in reports][-3:] == [0, 0, 0]
    assert gaps.open_gaps(year) == []
    assert positions(process_app)["S1"]["on_hand"] == 7


def _receipt_in(simulator, year: int, quantity: int) -> tuple[str, str]:
    """A goods receipt at S1 posted on 1 January of `year`; its document key."""
    item = {"GoodsMovementType": "101", "Material": "MAT-1", "Plant": "1010", "StorageLocation": "0001"}
    header = {"GoodsMovementCode": "05", "PostingDate": f"{year}-01-01T00:00:00"}
    return sap_system(simulator).post_document(header, [{**item, "QuantityInEntryUnit": str(quantity)}]).key


def test_numbers_restart_in_a_new_year_and_its_first_dropped_push_is_read(wired, simulator):
    api, process_app, _ = wired
    sap = sap_system(simulator)
    next_year = datetime.now(UTC).year + 1
    post_movement(simulator, "101", 10)
    assert sap.flush(timeout=10)
    sap.faults.update(drop_rate=1.0)
    first = _receipt_in(simulator, next_year, 6)
    sap.faults.update(drop_rate=0.0)
    second = _receipt_in(simulator, next_year, 1)
    assert sap.flush(timeout=10)
    assert first[0] == second[0] == str(next_year) and int(second[1]) == int(first[1]) + 1
    assert positions(process_app)["S1"]["on_hand"] == 11

    Rounds(api)()

    assert positions(process_app)["S1"]["on_hand"] == 17
    # what stays open is the range's start below its first document, until its reads run out
    assert api.extensions["sap"].gaps.open_gaps(first[0]) == [(0, int(first[1]) - 1)]


def test_the_gap_check_runs_in_one_process_at_a_time(wired, redis_url):
    api, _, _ = wired
    other_process = DocumentGaps(create_redis(make_settings(redis_url=redis_url)), max_reads=1, check_seconds=1)
    ours, theirs = api.extensions["sap"].gaps.lease(10), other_process.lease(10)

    assert ours.take()
    assert not theirs.take()
    ours.release()
    assert theirs.take()
