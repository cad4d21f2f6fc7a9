"""The ordering property: whatever order events arrive in, and however often, positions come out the same.

The pure `Ledger` applied once in occurred_at order is the expected result. Any permutation, with
duplicates thrown in, must give the same positions, both in the model and in the real Redis ledger
(Lua), which must also give the same outcome as the model for every delivery.
"""

from __future__ import annotations

import itertools
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.settings import Settings
from process_apis.inventory.adapters.keys import Keys
from process_apis.inventory.adapters.ledger import JournalPolicy, LedgerStore
from process_apis.inventory.domain.events import EventType
from process_apis.inventory.domain.ledger import Ledger, Outcome
from shared.redis import create_redis
from tests.support.inventory import event

SKUS = ("MAT-1", "MAT-2", "MAT-3")
LOCATIONS = ("S1", "S2", "D1")
# Counts are what make order matter, so they come up more often than the other types.
TYPES = (*EventType, EventType.COUNTED, EventType.COUNTED, EventType.COUNTED)
TRANSFERS = (EventType.TRANSFER_SHIPPED, EventType.TRANSFER_MOVED)
STOCK_TYPED = (EventType.RECEIVED, EventType.ISSUED)
OTHER_COUNTS = ("quality_inspection", "blocked", "in_transit")
# Large enough that no count ever falls behind the journal horizon in these tests.
UNBOUNDED_JOURNAL = JournalPolicy(dedup_ttl_seconds=3600, journal_seconds=10**7, journal_max=100_000)


@st.composite
def histories(draw):
    """(events in occurred_at order, the universe of (sku, location) pairs)."""
    skus = SKUS[: draw(st.integers(2, 3))]
    locations = LOCATIONS[: draw(st.integers(2, 3))]
    # Mostly distinct instants; sometimes a narrow range, so counts and deltas share a millisecond.
    times = sorted(
        draw(
            st.one_of(
                st.lists(st.integers(0, 100_000), min_size=1, max_size=30, unique=True),
                st.lists(st.integers(0, 3), min_size=2, max_size=30),
            )
        )
    )
    events = []
    for index, ms in enumerate(times):
        type_ = draw(st.sampled_from(TYPES))
        location = draw(st.sampled_from(locations))
        extra = {}
        if type_ in TRANSFERS:
            extra["to_location"] = draw(st.sampled_from([loc for loc in locations if loc != location]))
        if type_ in STOCK_TYPED:
            extra["stock_type"] = draw(st.sampled_from([None, "unrestricted", "quality_inspection", "blocked"]))
        if type_ is EventType.COUNTED:
            quantity = draw(st.integers(0, 40))
            extra["counts"] = draw(st.dictionaries(st.sampled_from(OTHER_COUNTS), st.integers(0, 20)))
        else:
            quantity = draw(st.integers(1, 20))
        events.append(
            event(
                f"sap:{index}:{uuid.uuid4().hex[:6]}",
                type_,
                sku=draw(st.sampled_from(skus)),
                location=location,
                quantity=quantity,
                ms=ms,
                **extra,
            )
        )
    return events, [(sku, loc) for sku in skus for loc in locations]


@st.composite
def deliveries(draw):
    """A history, and one arrival of it: permuted, with duplicates inserted, cut into batches."""
    events, universe = draw(histories())
    arrival = list(draw(st.permutations(events)))
    for duplicate in draw(st.lists(st.sampled_from(events), max_size=len(events))):
        arrival.insert(draw(st.integers(0, len(arrival))), duplicate)
    batch_size = draw(st.integers(1, len(arrival)))
    batches = [arrival[i : i + batch_size] for i in range(0, len(arrival), batch_size)]
    return events, universe, batches


def expected_positions(events, universe):
    ledger = Ledger()
    for item in sorted(events, key=lambda e: e.occurred_at):
        ledger.apply(item)
    return {pair: ledger.position(*pair).quantities() for pair in universe}


def model_run(batches):
    ledger = Ledger()
    outcomes = [ledger.apply(item) for batch in batches for item in batch]
    return ledger, outcomes


@given(deliveries())
@settings(max_examples=300, deadline=None)
def test_model_positions_do_not_depend_on_arrival_order_or_duplicates(delivery):
    events, universe, batches = delivery

    ledger, outcomes = model_run(batches)

    assert {pair: ledger.position(*pair).quantities() for pair in universe} == expected_positions(events, universe)
    first_deliveries = [o for o in outcomes if o is not Outcome.DUPLICATE]
    assert len(first_deliveries) == len(events)


# -- the real Redis ledger (Lua) against the model ---------------------------------------------

_prefixes = itertools.count()


@pytest.fixture(scope="module")
def standalone_client(redis_server):
    client = create_redis(Settings.from_env({"REDIS_URL": redis_server}))
    yield client
    client.flushall()
    client.close()


def check_redis_against_model(client, delivery):
    events, universe, batches = delivery
    store = LedgerStore(client, keys=Keys(f"prop{next(_prefixes)}"), policy=UNBOUNDED_JOURNAL)

    outcomes = [applied.outcome for batch in batches for applied in store.apply(batch)]

    model, model_outcomes = model_run(batches)
    assert outcomes == model_outcomes
    got = {(p.sku, p.location): p.quantities() for p in store.positions(universe)}
    assert got == expected_positions(events, universe)
    assert got == {pair: model.position(*pair).quantities() for pair in universe}


@given(delivery=deliveries())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_redis_ledger_matches_the_model_whatever_the_arrival_order(standalone_client, delivery):
    check_redis_against_model(standalone_client, delivery)


@pytest.fixture(scope="module")
def cluster_client(redis_cluster):
    client = create_redis(Settings.from_env({"REDIS_URL": redis_cluster}))
    yield client
    client.close()


@given(delivery=deliveries())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_redis_cluster_ledger_matches_the_model_whatever_the_arrival_order(cluster_client, delivery):
    check_redis_against_model(cluster_client, delivery)
