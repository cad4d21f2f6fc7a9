"""The Redis ledger (Lua) on a real redis-server and on a real 3-master Redis Cluster: dedup,
the watermark rule, transfers, negatives, the journal horizon, reservation holds, and replay."""

from __future__ import annotations

import threading

import pytest

from gateway.settings import Settings
from process_apis.inventory.adapters.keys import Keys
from process_apis.inventory.adapters.ledger import JournalPolicy, LedgerStore
from process_apis.inventory.adapters.replay import replay
from process_apis.inventory.bootstrap import bootstrap
from process_apis.inventory.domain.ledger import Ledger, Outcome
from process_apis.inventory.domain.locations import Location
from process_apis.inventory.service.ingest import SNAPSHOT_TOO_OLD, ingest
from shared.redis import create_redis
from tests.support.inventory import at, event, event_json

APPLIED, DUPLICATE, STALE, DEAD_LETTERED = Outcome.APPLIED, Outcome.DUPLICATE, Outcome.STALE, Outcome.DEAD_LETTERED
POLICY = JournalPolicy(dedup_ttl_seconds=3600, journal_seconds=30 * 86400, journal_max=1000)


@pytest.fixture(
    params=[pytest.param("standalone", marks=pytest.mark.redis), pytest.param("cluster", marks=pytest.mark.cluster)]
)
def backend(request):
    """(URL, client) of an emptied real Redis: a standalone server, then the 3-master cluster."""
    url = request.getfixturevalue("redis_url" if request.param == "standalone" else "cluster_url")
    client = create_redis(Settings.from_env({"REDIS_URL": url}))
    yield url, client
    client.close()


@pytest.fixture
def client(backend):
    return backend[1]


@pytest.fixture
def ledger(client):
    return LedgerStore(client, keys=Keys("inv"), policy=POLICY)


def position(ledger, location="S1", sku="MAT-1"):
    return ledger.positions([(sku, location)])[0]


def outcomes(results):
    return [result.outcome for result in results]


def line(quantity, *locations, partial=False, strategy="priority", fence=0, safety=0, allocations=None):
    return {
        "qty": quantity,
        "partial": partial,
        "strategy": strategy,
        "fence": fence,
        "cands": [{"loc": loc, "ss_units": safety, "ss_pct": 0, "alloc": allocations or {}} for loc in locations],
    }


def hold(ledger, reservation_id, *lines, sku="MAT-1", channel="web", pending=False):
    """Hold as the service does: goods issues may name the reservation id or its order (res-1 → ORDER-1)."""
    refs = [reservation_id, "ORDER-" + reservation_id.split("-", 1)[1].upper()]
    return ledger.hold(
        sku, {"res": reservation_id, "ch": channel, "pending": pending, "refs": refs, "lines": list(lines)}
    )


def stock(ledger, quantity, location="S1", sku="MAT-1", ms=1):
    ledger.apply(
        [event(f"stock-{sku}-{location}-{ms}", "stock.received", sku=sku, location=location, quantity=quantity, ms=ms)]
    )


# -- dedup -----------------------------------------------------------------------------------


def test_the_same_event_twice_is_applied_once(ledger):
    receipt = event("sap:1", "stock.received", quantity=4, ms=1)

    assert outcomes(ledger.apply([receipt, receipt])) == [APPLIED, DUPLICATE]
    assert outcomes(ledger.apply([receipt])) == [DUPLICATE]
    assert position(ledger).on_hand == 4
    assert [op for _, op, _ in ledger.log_entries("MAT-1")] == ["event"]


def test_a_duplicate_delivered_concurrently_is_applied_exactly_once(ledger):
    receipt = event("sap:race", "stock.received", quantity=5, ms=1)
    start, results = threading.Barrier(6), []

    def deliver():
        start.wait()
        results.extend(ledger.apply([receipt]))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes(results)) == sorted([APPLIED] + [DUPLICATE] * 5)
    assert position(ledger).on_hand == 5


def test_events_of_several_skus_in_one_batch_each_get_their_outcome(ledger):
    results = ledger.apply(
        [
            event("a1", "stock.received", sku="MAT-1", quantity=2, ms=1),
            event("b1", "stock.counted", sku="MAT-2", quantity=9, ms=5),
            event("a1", "stock.received", sku="MAT-1", quantity=2, ms=1),
            event("b2", "stock.issued", sku="MAT-2", quantity=1, ms=4),
        ]
    )

    assert outcomes(results) == [APPLIED, APPLIED, DUPLICATE, STALE]
    assert (position(ledger, sku="MAT-1").on_hand, position(ledger, sku="MAT-2").on_hand) == (2, 9)
    assert ledger.all_skus() == ["MAT-1", "MAT-2"]


# -- the watermark rule, against the reference model ------------------------------------------

SCENARIOS = {
    "a delta older than the count is stale": (
        [event("c", "stock.counted", quantity=7, ms=10), event("r", "stock.received", quantity=3, ms=5)],
        [APPLIED, STALE],
    ),
    "a delta at the count's instant is inside it": (
        [event("c", "stock.counted", quantity=7, ms=10), event("i", "stock.issued", quantity=2, ms=10)],
        [APPLIED, STALE],
    ),
    "a newer count is its quantity plus the later deltas": (
        [
            event("r0", "stock.received", quantity=100, ms=5),
            event("r1", "stock.received", quantity=3, ms=20),
            event("i1", "stock.issued", quantity=1, ms=30),
            event("c", "stock.counted", quantity=5, ms=10),
        ],
        [APPLIED, APPLIED, APPLIED, APPLIED],
    ),
    "an older count after a newer one is stale": (
        [event("new", "stock.counted", quantity=8, ms=20), event("old", "stock.counted", quantity=1, ms=10)],
        [APPLIED, STALE],
    ),
    "a same-instant count with the smaller id loses": (
        [event("count-b", "stock.counted", quantity=9, ms=10), event("count-a", "stock.counted", quantity=5, ms=10)],
        [APPLIED, STALE],
    ),
    "a same-instant count with the larger id wins": (
        [event("count-a", "stock.counted", quantity=5, ms=10), event("count-b", "stock.counted", quantity=9, ms=10)],
        [APPLIED, APPLIED],
    ),
    "each field keeps its own watermark": (
        [
            event("oh", "stock.counted", quantity=5, ms=20),
            event("qi", "stock.counted", quantity=3, ms=10, counts={"quality_inspection": 4}),
            event("p", "inspection.passed", quantity=2, ms=15),
        ],
        [APPLIED, APPLIED, APPLIED],
    ),
    "a count of in-transit stock includes a later transfer in": (
        [
            event("ship", "transfer.shipped", quantity=4, location="D1", to_location="S1", ms=20),
            event("c", "stock.counted", quantity=2, ms=10, counts={"in_transit": 1}),
        ],
        [APPLIED, APPLIED],
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_watermark_rule_matches_the_reference_model(ledger, name):
    events, expected_outcomes = SCENARIOS[name]
    model = Ledger()

    assert outcomes(ledger.apply(events)) == expected_outcomes == [model.apply(e) for e in events]
    for loc in ("S1", "D1"):
        assert position(ledger, loc).quantities() == model.position("MAT-1", loc).quantities()


def test_a_newer_count_sets_on_hand_to_count_plus_later_deltas(ledger):
    ledger.apply(
        [
            event("r0", "stock.received", quantity=100, ms=5),
            event("r1", "stock.received", quantity=3, ms=20),
            event("i1", "stock.issued", quantity=1, ms=30),
        ]
    )

    ledger.apply([event("c", "stock.counted", quantity=5, ms=10)])

    assert position(ledger).on_hand == 5 + 3 - 1


def test_each_event_is_applied_whether_sent_one_by_one_or_in_a_batch(client):
    events = [
        event("c", "stock.counted", quantity=7, ms=10),
        event("r", "stock.received", quantity=3, ms=5),
        event("r2", "stock.received", quantity=2, ms=15),
    ]
    one_by_one = LedgerStore(client, keys=Keys("single"), policy=POLICY)
    batched = LedgerStore(client, keys=Keys("batch"), policy=POLICY)

    for item in events:
        one_by_one.apply([item])
    batched.apply(events)

    assert position(one_by_one) == position(batched)
    assert position(batched).on_hand == 9


# -- transfers and negatives -----------------------------------------------------------------


def test_a_transfer_moves_stock_between_two_locations_of_one_sku(ledger):
    stock(ledger, 10, location="D1")

    ledger.apply([event("ship", "transfer.shipped", quantity=4, location="D1", to_location="S1", ms=2)])
    assert (position(ledger, "D1").on_hand, position(ledger, "S1").in_transit) == (6, 4)

    ledger.apply(
        [
            event("arrive", "transfer.received", quantity=4, location="S1", ms=3),
            event("move", "transfer.moved", quantity=1, location="S1", to_location="S2", ms=4),
        ]
    )
    assert (position(ledger, "S1").on_hand, position(ledger, "S1").in_transit) == (3, 0)
    assert position(ledger, "S2").on_hand == 1
    assert ledger.locations_holding(["MAT-1"]) == {"MAT-1": ["D1", "S1", "S2"]}


def test_an_issue_below_zero_is_applied_and_reported_negative_once(ledger):
    stock(ledger, 3)

    [first] = ledger.apply([event("i1", "stock.issued", quantity=5, ms=2)])
    [second] = ledger.apply([event("i2", "stock.issued", quantity=1, ms=3)])

    assert (first.outcome, first.went_negative) == (APPLIED, ("S1",))
    assert (second.outcome, second.went_negative) == (APPLIED, ())
    assert (position(ledger).on_hand, position(ledger).negative) == (-3, True)


def test_a_transfer_from_an_empty_location_flags_only_the_source(ledger):
    [result] = ledger.apply([event("m", "transfer.moved", quantity=2, location="S1", to_location="S2", ms=1)])

    assert result.went_negative == ("S1",)
    assert (position(ledger, "S1").on_hand, position(ledger, "S2").on_hand) == (-2, 2)


# -- the journal horizon ---------------------------------------------------------------------


def test_a_count_older_than_the_journal_horizon_is_too_old_and_not_recorded(client):
    ledger = LedgerStore(client, keys=Keys("inv"), policy=JournalPolicy(3600, 86400, journal_max=2))
    ledger.apply([event(f"r{ms}", "stock.received", quantity=1, ms=ms) for ms in (10, 20, 30)])

    [result] = ledger.apply([event("old-count", "stock.counted", quantity=50, ms=5)])
    [again] = ledger.apply([event("old-count", "stock.counted", quantity=50, ms=5)])

    assert (result.outcome, result.too_old) == (DEAD_LETTERED, True)
    assert again.too_old  # not remembered as seen: it can be re-driven later
    assert position(ledger).on_hand == 3
    assert [op for _, op, _ in ledger.log_entries("MAT-1")] == ["event"] * 3


def test_a_count_inside_the_journal_still_adds_the_later_deltas(client):
    ledger = LedgerStore(client, keys=Keys("inv"), policy=JournalPolicy(3600, 86400, journal_max=2))
    ledger.apply([event(f"r{ms}", "stock.received", quantity=1, ms=ms) for ms in (10, 20, 30)])

    [result] = ledger.apply([event("count", "stock.counted", quantity=50, ms=25)])

    assert result.outcome is APPLIED and position(ledger).on_hand == 51


def test_the_service_dead_letters_a_count_behind_the_horizon(backend):
    url, client = backend
    inventory = bootstrap(Settings(redis_url=url, delta_journal_max=2), client)
    inventory.catalogue.put_location(Location("S1", "store"))
    ingest(inventory, [event_json(f"r{ms}", "stock.received", ms=ms) for ms in (10, 20, 30)])

    old_count = event_json("old-count", "stock.counted", quantity=50, ms=5)
    result = ingest(inventory, [old_count])

    [item] = result["not_applied"]
    assert (result["dead_lettered"], item["reason"]) == (1, SNAPSHOT_TOO_OLD)
    entry = inventory.dead_letters.get(item["dead_letter_id"])
    assert (entry["status"], entry["reason"], entry["payload"]) == ("open", SNAPSHOT_TOO_OLD, old_count)


# -- reservation holds -----------------------------------------------------------------------


def test_a_hold_reserves_units_for_its_channel(ledger):
    stock(ledger, 10)

    reply = hold(ledger, "res-1", line(3, "S1"))

    assert (reply["ok"], reply["allocs"], reply["short"]) == (True, [[1, "S1", 3]], [])
    held = position(ledger)
    assert (held.reserved, held.reserved_by_channel) == (3, {"web": 3})


def test_a_hold_that_cannot_be_met_in_full_leaves_no_trace(ledger):
    stock(ledger, 10)
    stock(ledger, 1, location="S2")

    reply = hold(ledger, "res-1", line(2, "S1"), line(5, "S2"))

    assert reply["ok"] is False
    assert reply["short"] == [{"line": 2, "requested": 5, "available": 1}]
    assert position(ledger, "S1").reserved == 0 and position(ledger, "S2").reserved == 0
    assert not ledger.holds_anything(["MAT-1"], "res-1")
    assert "hold" not in [op for _, op, _ in ledger.log_entries("MAT-1")]


def test_a_partial_hold_takes_what_there_is(ledger):
    stock(ledger, 4)

    reply = hold(ledger, "res-1", line(6, "S1", partial=True))

    assert (reply["ok"], reply["allocs"]) == (True, [[1, "S1", 4]])
    assert reply["short"] == [{"line": 1, "requested": 6, "available": 4}]


@pytest.mark.parametrize(
    ("strategy", "allocations"),
    [
        ("priority", [[1, "S1", 3], [1, "S2", 3]]),
        ("most_available", [[1, "S2", 5], [1, "S1", 1]]),
    ],
)
def test_a_group_line_is_split_over_members_by_the_sourcing_strategy(ledger, strategy, allocations):
    stock(ledger, 3, location="S1")
    stock(ledger, 5, location="S2")

    reply = hold(ledger, "res-1", line(6, "S1", "S2", strategy=strategy))

    assert reply["allocs"] == allocations


def test_a_hold_respects_safety_stock_and_other_channels_fences(ledger):
    stock(ledger, 10)

    assert not hold(ledger, "res-1", line(9, "S1", safety=2))["ok"]
    assert not hold(ledger, "res-2", line(8, "S1", allocations={"store": 3}))["ok"]
    assert hold(ledger, "res-3", line(7, "S1", allocations={"store": 3}))["ok"]
    # The store channel's own fence is open to it.
    assert hold(ledger, "res-4", line(3, "S1", allocations={"store": 3}), channel="store")["ok"]


def test_a_group_fence_comes_off_the_line_total(ledger):
    stock(ledger, 5, location="S1")
    stock(ledger, 5, location="S2")

    reply = hold(ledger, "res-1", line(9, "S1", "S2", fence=2, partial=True))

    assert sum(quantity for _, _, quantity in reply["allocs"]) == 8


def test_a_pending_hold_is_firm_once_committed(ledger):
    stock(ledger, 10)
    hold(ledger, "res-1", line(3, "S1"), pending=True)
    assert ledger.raw_position("MAT-1", "S1")["pending"] == "3"

    # Another reservation short only because of the pending hold is told the shortage may pass.
    assert hold(ledger, "res-2", line(8, "S1"))["contended"] is True

    ledger.commit("MAT-1", "res-1")
    ledger.commit("MAT-1", "res-1")

    assert ledger.raw_position("MAT-1", "S1")["pending"] == "0"
    assert position(ledger).reserved == 3
    assert [op for _, op, _ in ledger.log_entries("MAT-1")].count("commit") == 1
    assert hold(ledger, "res-2", line(8, "S1"))["contended"] is False


def test_release_gives_back_some_then_all_units_and_is_idempotent(ledger):
    stock(ledger, 10)
    hold(ledger, "res-1", line(3, "S1"))

    assert ledger.release("MAT-1", "res-1", [["S1", 1]]) == [["S1", 1]]
    assert position(ledger).reserved == 2
    assert ledger.release("MAT-1", "res-1") == [["S1", 2]]
    assert ledger.release("MAT-1", "res-1") == []

    assert position(ledger).reserved == 0 and position(ledger).reserved_by_channel == {}
    assert not ledger.holds_anything(["MAT-1"], "res-1")


def test_releasing_more_than_is_held_releases_what_is_held(ledger):
    stock(ledger, 10)
    hold(ledger, "res-1", line(3, "S1"))

    assert ledger.release("MAT-1", "res-1", [["S1", 99], ["S2", 1]]) == [["S1", 3]]
    assert position(ledger).reserved == 0


# -- fulfilled holds: consumed by the goods issue, or superseded by a newer count -------------

FULFILLED_AT_MS = 100


@pytest.fixture
def fulfilled(ledger):
    """10 on hand at S1; reservation res-1 holds 3 and is fulfilled for order ORDER-1."""
    stock(ledger, 10)
    hold(ledger, "res-1", line(3, "S1"))
    assert ledger.fulfil("MAT-1", "res-1", int(at(FULFILLED_AT_MS).timestamp() * 1000))
    return ledger


def test_a_fulfilled_hold_keeps_holding_until_the_goods_issue(fulfilled):
    assert position(fulfilled).reserved == 3
    assert fulfilled.holds_anything(["MAT-1"], "res-1")


def test_the_goods_issue_naming_the_reference_consumes_the_fulfilled_hold(fulfilled):
    fulfilled.apply([event("gi", "stock.issued", quantity=3, reference="ORDER-1", reason="sale", ms=200)])

    assert (position(fulfilled).on_hand, position(fulfilled).reserved) == (7, 0)
    assert not fulfilled.holds_anything(["MAT-1"], "res-1")


def test_a_partial_goods_issue_consumes_only_its_units(fulfilled):
    fulfilled.apply([event("gi", "stock.issued", quantity=2, reference="res-1", ms=200)])

    assert (position(fulfilled).on_hand, position(fulfilled).reserved) == (8, 1)


@pytest.mark.parametrize(
    "issue",
    [
        event("gi", "stock.issued", quantity=3, reference="ORDER-2", ms=200),
        event("gi", "stock.issued", quantity=3, ms=200),
        event("gi", "stock.issued", quantity=3, reference="ORDER-1", stock_type="blocked", ms=200),
        event("gi", "stock.issued", quantity=3, reference="ORDER-1", location="S2", ms=200),
    ],
    ids=["other reference", "no reference", "blocked stock", "other location"],
)
def test_a_goods_issue_for_something_else_leaves_the_fulfilled_hold(fulfilled, issue):
    fulfilled.apply([issue])

    assert position(fulfilled).reserved == 3


def test_a_count_newer_than_the_fulfilment_supersedes_the_hold(fulfilled):
    fulfilled.apply([event("c", "stock.counted", quantity=7, ms=FULFILLED_AT_MS + 1)])

    assert (position(fulfilled).on_hand, position(fulfilled).reserved) == (7, 0)
    assert not fulfilled.holds_anything(["MAT-1"], "res-1")


def test_a_count_older_than_the_fulfilment_leaves_the_hold(fulfilled):
    fulfilled.apply([event("c", "stock.counted", quantity=10, ms=FULFILLED_AT_MS - 1)])

    assert position(fulfilled).reserved == 3


def test_an_active_hold_is_not_superseded_by_a_count(ledger):
    stock(ledger, 10)
    hold(ledger, "res-1", line(3, "S1"))

    ledger.apply([event("c", "stock.counted", quantity=8, ms=10_000)])

    assert position(ledger).reserved == 3


def test_fulfilling_without_a_hold_does_nothing(ledger):
    assert ledger.fulfil("MAT-1", "nothing-held", 1) is False


# -- replay ----------------------------------------------------------------------------------


def position_hashes(client, prefix):
    """Every position hash under `prefix`, keyed by the key without the prefix (all cluster nodes)."""
    keys = list(client.scan_iter(match=f"{prefix}:*:pos:*", count=1000))
    return {key.removeprefix(prefix): client.hgetall(key) for key in keys}


def mixed_workload(ledger):
    ms = iter(range(1, 10_000))

    def ev(event_id, type_, **kwargs):
        return event(event_id, type_, ms=next(ms), **kwargs)

    received = [
        ev(f"r-{sku}-{loc}", "stock.received", sku=sku, location=loc, quantity=20)
        for sku in ("MAT-1", "MAT-2", "MAT-3")
        for loc in ("S1", "S2", "D1")
    ]
    ledger.apply(received)
    ledger.apply(
        [
            ev("ret", "stock.returned", quantity=3),
            ev("pass", "inspection.passed", quantity=2),
            ev("fail", "inspection.failed", quantity=1),
            ev("blk", "stock.blocked", sku="MAT-2", quantity=2),
            ev("unblk", "stock.unblocked", sku="MAT-2", quantity=1),
            ev("ship", "transfer.shipped", location="D1", to_location="S2", quantity=5),
            ev("move", "transfer.moved", sku="MAT-3", location="D1", to_location="S1", quantity=4),
            ev("qi-in", "stock.received", stock_type="quality_inspection", sku="MAT-2", quantity=6),
            received[0],  # a duplicate
        ]
    )
    hold(ledger, "res-a", line(4, "S1", "S2"))
    hold(ledger, "res-b", line(2, "S1"), pending=True)
    hold(ledger, "res-b", line(3, "D1"), sku="MAT-2", pending=True)
    ledger.commit("MAT-1", "res-b")
    ledger.commit("MAT-2", "res-b")
    hold(
        ledger,
        "res-c",
        line(30, "S1", "S2", "D1", strategy="most_available", partial=True),
        sku="MAT-3",
        channel="store",
    )
    ledger.release("MAT-3", "res-c", [["S1", 2]])
    hold(ledger, "res-d", line(99, "S1"))  # short: leaves no trace
    ledger.apply(
        [
            ev("arrive", "transfer.received", location="S2", quantity=5),
            ev("count-1", "stock.counted", location="S2", quantity=30, counts={"in_transit": 0}),
        ]
    )
    fulfil_ms = next(ms)
    ledger.fulfil("MAT-1", "res-a", int(at(fulfil_ms).timestamp() * 1000))
    ledger.fulfil("MAT-2", "res-b", int(at(fulfil_ms).timestamp() * 1000))
    ledger.apply(
        [
            ev("gi-a", "stock.issued", quantity=3, reference="ORDER-A", reason="sale"),
            ev("count-2", "stock.counted", sku="MAT-2", location="D1", quantity=12, counts={"blocked": 1}),
            event("late", "stock.issued", sku="MAT-2", location="D1", quantity=1, ms=fulfil_ms - 1),  # stale
            ev("gi-oversell", "stock.issued", sku="MAT-3", location="S2", quantity=40, reason="shrinkage"),
        ]
    )
    ledger.release("MAT-1", "res-a")


def test_replay_rebuilds_byte_identical_positions(client, ledger):
    mixed_workload(ledger)
    source_positions = position_hashes(client, "inv")
    target = LedgerStore(client, keys=Keys("rebuilt"), policy=POLICY)

    replayed = replay(ledger, target)

    assert replayed == sum(1 for sku in ledger.all_skus() for _ in ledger.log_entries(sku))
    assert len(source_positions) == 9
    assert position_hashes(client, "rebuilt") == source_positions
    # The workload left something to compare: holds, a consumed and a superseded fulfilment, a negative.
    assert position(target, "S1", "MAT-3").reserved_by_channel == {"store": 22}
    assert position(target, "S2", "MAT-3").negative
    assert position(target, "D1", "MAT-2").reserved == 0
