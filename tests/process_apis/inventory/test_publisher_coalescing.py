"""The availability publisher's own logic: which keys a change touches, coalescing in a window,
slowing down when asked. Redis is the embedded fakeredis; the system API is the test receiver,
called in-process through the tier client."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import fakeredis
import pytest
from prometheus_client import REGISTRY

from gateway.settings import Settings
from process_apis.inventory.adapters.changes import Change
from process_apis.inventory.bootstrap import bootstrap
from process_apis.inventory.domain.locations import Catalogue, Location, LocationGroup
from process_apis.inventory.domain.outcomes import OutcomeKey, outcome_keys, rule_window_passed
from process_apis.inventory.domain.rules import AllocationRule, RuleSet
from process_apis.inventory.publisher import Publisher
from process_apis.inventory.publishing.coalescing import Pace, PendingChanges, recorded_ago
from process_apis.inventory.publishing.contract import batch_key
from process_apis.inventory.service.availability import query
from process_apis.inventory.service.ingest import ingest
from shared.tier_client import TierClient
from tests.support.availability_receiver import AvailabilityReceiver
from tests.support.inventory import event_json

CATALOGUE = Catalogue(
    locations={
        "S1": Location("S1", "store", channels=("web", "store")),
        "S2": Location("S2", "store", channels=("store",)),
        "D1": Location("D1", "dc"),  # names no channel: serves every channel
    },
    groups={
        "WEB-SHIP": LocationGroup("WEB-SHIP", ("D1", "S1"), channel="web"),
        "STORES": LocationGroup("STORES", ("S1", "S2"), channel="store"),
        "ANY": LocationGroup("ANY", ("S2",)),
    },
)


def test_a_change_at_a_location_touches_each_channel_it_serves_and_each_group_holding_it():
    assert outcome_keys(CATALOGUE, "MAT-1", ["S1"]) == [
        OutcomeKey("MAT-1", "S1", None, "web"),
        OutcomeKey("MAT-1", "S1", None, "store"),
        OutcomeKey("MAT-1", None, "STORES", "store"),
        OutcomeKey("MAT-1", None, "WEB-SHIP", "web"),
    ]


def test_a_location_or_group_naming_no_channel_is_published_for_every_known_channel():
    assert outcome_keys(CATALOGUE, "MAT-1", ["D1"]) == [
        OutcomeKey("MAT-1", "D1", None, "store"),
        OutcomeKey("MAT-1", "D1", None, "web"),
        OutcomeKey("MAT-1", None, "WEB-SHIP", "web"),
    ]
    assert OutcomeKey("MAT-1", None, "ANY", "web") in outcome_keys(CATALOGUE, "MAT-1", ["S2"])


def test_an_unknown_location_touches_nothing():
    assert outcome_keys(CATALOGUE, "MAT-1", ["GONE"]) == []


def test_pending_changes_keep_per_sku_the_oldest_change_behind_it_and_every_entry():
    pending = PendingChanges()
    pending.add(Change("1-0", {"MAT-1": 500, "MAT-2": 900}), now=10.0)
    pending.add(Change("2-0", {"MAT-1": 300}), now=10.1)
    assert pending.skus == {"MAT-1": 300, "MAT-2": 900}
    assert pending.entry_ids == ["1-0", "2-0"]
    assert not pending.due(10.15, window_seconds=0.2)
    assert pending.due(10.25, window_seconds=0.2)  # the window opened with the first change


def test_a_changes_window_opens_when_it_was_recorded_not_when_it_was_read():
    pace = Pace(200)
    # recorded at 1,000,000 ms (Redis), read 80 ms later (the publisher was sending the last batch)
    ago = recorded_ago("1000000-0", 1_000_080, pace)
    pending = PendingChanges()
    pending.add(Change("1000000-0", {"MAT-1": 999_990}), now=50.0, recorded_ago=ago)
    assert ago == pytest.approx(0.08)
    assert not pending.due(50.11, window_seconds=0.2) and pending.due(50.13, window_seconds=0.2)


def test_a_window_counts_at_most_half_of_a_changes_age_and_none_of_it_while_slowed_down():
    pace = Pace(200)
    assert recorded_ago("1000000-0", 1_005_000, pace) == 0.1  # a backlog, or this clock ahead of Redis's
    assert recorded_ago("1000300-0", 1_000_000, pace) == 0.0  # this clock behind Redis's
    pace.observe(slow_down=True)
    assert recorded_ago("1000000-0", 1_000_080, pace) == 0.0


def test_slow_down_widens_the_window_tenfold_up_to_the_cap_until_lifted():
    pace = Pace(200, factor=10, max_ms=1500)
    assert pace.window_ms == 200
    assert pace.observe(True) is True
    assert pace.window_ms == 1500
    assert pace.observe(True) is False  # no change, nothing to report
    assert Pace(100, factor=10, max_ms=5000).observe(True) and pace.observe(False) is True
    assert pace.window_ms == 200


def test_a_time_boxed_allocation_starting_or_ending_counts_as_a_rule_change():
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rules = RuleSet(allocations=(AllocationRule("store", 5, starts_at=start, ends_at=start + timedelta(days=1)),))
    assert rule_window_passed(rules, start - timedelta(seconds=1), start)
    assert rule_window_passed(rules, start + timedelta(hours=23), start + timedelta(days=2))
    assert not rule_window_passed(rules, start, start + timedelta(hours=1))


def test_the_idempotency_key_is_the_same_for_the_same_batch_and_differs_for_another():
    body = {"outcomes": [{"sku": "MAT-1", "available_to_sell": 3}]}
    assert batch_key(body) == batch_key({"outcomes": [{"available_to_sell": 3, "sku": "MAT-1"}]})
    assert batch_key(body) != batch_key({"outcomes": [{"sku": "MAT-1", "available_to_sell": 4}]})


# -- the publisher on the embedded store ----------------------------------------------------------
@pytest.fixture
def world():
    inventory = bootstrap(Settings(), fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True))
    inventory.catalogue.put_location(Location("S1", "store", channels=("web", "store")))
    inventory.catalogue.put_group(LocationGroup("WEB", ("S1",), channel="web"))
    receiver = AvailabilityReceiver()
    stop = threading.Event()
    publisher = active_publisher(inventory, receiver, window_ms=60_000)
    # Nothing was published yet, so a first flush settles every SKU.
    publisher.check_stream_and_versions()
    publisher.flush(stop)
    return inventory, receiver, publisher, stop


def active_publisher(inventory, receiver, **options) -> Publisher:
    """A publisher holding the lease and the stream, its steps run by the test."""
    publisher = Publisher(inventory, TierClient("salesforce-system", app=receiver.app), lease_seconds=30, **options)
    assert publisher.keep_lease()
    publisher.join()
    return publisher


def _receive(inventory, n: int, quantity: int) -> None:
    outcome = ingest(inventory, [event_json(f"r-{n}", "stock.received", location="S1", quantity=quantity, ms=n)])
    assert outcome["applied"] == 1


def test_many_changes_in_one_window_send_one_outcome_per_key_with_the_latest_value(world):
    inventory, receiver, publisher, stop = world
    for n in range(1, 21):
        _receive(inventory, n, quantity=n)
    publisher.step(stop)  # reads all 20 changes; the 60 s window is still open
    assert len(publisher.pending.entry_ids) == 20
    assert receiver.outcome_count() == 0

    publisher.flush(stop)
    on_hand = sum(range(1, 21))
    assert receiver.outcome_count() == 3
    for key in (("MAT-1", "S1", None, "web"), ("MAT-1", "S1", None, "store"), ("MAT-1", None, "WEB", "web")):
        [outcome] = receiver.history(key)
        assert (outcome["available_to_sell"], outcome["status"]) == (on_hand, "in_stock")
        assert outcome["occurred_at"] == event_json("r-1", "stock.received", ms=1)["occurred_at"]  # the oldest
    assert inventory.changes.redis.xpending(inventory.changes.key, "publisher")["pending"] == 0


def test_a_value_equal_to_the_last_published_is_not_sent_again(world):
    inventory, receiver, publisher, stop = world
    _receive(inventory, 1, quantity=4)
    publisher.step(stop)
    publisher.flush(stop)
    sent = receiver.outcome_count()
    # A duplicate event records a change (its first answer may have been lost) but moves nothing.
    assert ingest(inventory, [event_json("r-1", "stock.received", location="S1", quantity=4, ms=1)])["duplicate"] == 1
    publisher.step(stop)
    assert publisher.pending.entry_ids
    publisher.flush(stop)
    assert receiver.outcome_count() == sent
    assert (
        query(inventory, skus=["MAT-1"], locations=["S1"], location_group=None, channel="web")["positions"][
            0
        ].available_to_sell
        == 4
    )


def test_the_publisher_coalesces_harder_while_the_system_api_asks_to_slow_down(world, caplog):
    inventory, receiver, first, stop = world
    first.release()
    publisher = active_publisher(inventory, receiver, window_ms=200, max_window_ms=1500)
    receiver.slow_down = True
    _receive(inventory, 1, quantity=2)
    publisher.step(stop)
    publisher.flush(stop)
    assert publisher.pace.window_ms == 1500
    assert REGISTRY.get_sample_value("inventory_publish_slow_down") == 1
    assert "asks to slow down" in caplog.text

    receiver.slow_down = False
    _receive(inventory, 2, quantity=2)
    publisher.step(stop)
    publisher.flush(stop)
    assert publisher.pace.window_ms == 200 and REGISTRY.get_sample_value("inventory_publish_slow_down") == 0
