"""The reference ledger: dedup and the per-field watermark rule that makes arrival order irrelevant."""

from itertools import permutations

import pytest

from process_apis.inventory.domain.ledger import Ledger, Outcome
from tests.support.inventory import event

APPLIED, DUPLICATE, STALE = Outcome.APPLIED, Outcome.DUPLICATE, Outcome.STALE


def apply_all(events):
    ledger = Ledger()
    outcomes = [ledger.apply(e) for e in events]
    return ledger, outcomes


def test_a_delta_older_than_the_count_is_already_inside_it_and_skipped():
    ledger, outcomes = apply_all(
        [
            event("count", "stock.counted", quantity=7, ms=10),
            event("late-receipt", "stock.received", quantity=3, ms=5),
        ]
    )

    assert outcomes == [APPLIED, STALE]
    assert ledger.position("MAT-1", "S1").on_hand == 7


def test_a_delta_at_the_same_instant_as_the_count_is_inside_it():
    ledger, outcomes = apply_all(
        [
            event("count", "stock.counted", quantity=7, ms=10),
            event("same-ms", "stock.issued", quantity=2, ms=10),
        ]
    )

    assert outcomes == [APPLIED, STALE]
    assert ledger.position("MAT-1", "S1").on_hand == 7


def test_a_newer_count_is_its_quantity_plus_the_deltas_after_it():
    ledger, outcomes = apply_all(
        [
            event("before", "stock.received", quantity=100, ms=5),
            event("after-1", "stock.received", quantity=3, ms=20),
            event("after-2", "stock.issued", quantity=1, ms=30),
            event("count", "stock.counted", quantity=5, ms=10),
        ]
    )

    assert outcomes == [APPLIED, APPLIED, APPLIED, APPLIED]
    assert ledger.position("MAT-1", "S1").on_hand == 5 + 3 - 1


def test_an_older_count_after_a_newer_one_is_stale():
    ledger, outcomes = apply_all(
        [
            event("new", "stock.counted", quantity=8, ms=20),
            event("old", "stock.counted", quantity=1, ms=10),
        ]
    )

    assert outcomes == [APPLIED, STALE]
    assert ledger.position("MAT-1", "S1").on_hand == 8


@pytest.mark.parametrize("order", [("count-a", "count-b"), ("count-b", "count-a")])
def test_two_counts_at_the_same_instant_are_ordered_by_event_id(order):
    counts = {
        "count-a": event("count-a", "stock.counted", quantity=5, ms=10),
        "count-b": event("count-b", "stock.counted", quantity=9, ms=10),
    }
    ledger, outcomes = apply_all([counts[name] for name in order])

    assert ledger.position("MAT-1", "S1").on_hand == 9
    assert outcomes == ([APPLIED, APPLIED] if order[0] == "count-a" else [APPLIED, STALE])


def test_the_same_event_id_is_applied_once():
    receipt = event("r1", "stock.received", quantity=4, ms=1)
    ledger, outcomes = apply_all([receipt, receipt, event("r1", "stock.received", quantity=50, ms=2)])

    assert outcomes == [APPLIED, DUPLICATE, DUPLICATE]
    assert ledger.position("MAT-1", "S1").on_hand == 4


def test_a_duplicate_count_is_a_duplicate_not_stale():
    count = event("c1", "stock.counted", quantity=4, ms=1)
    _, outcomes = apply_all([count, count])

    assert outcomes == [APPLIED, DUPLICATE]


def test_each_field_keeps_its_own_watermark():
    ledger, outcomes = apply_all(
        [
            # on_hand is counted at 20, quality inspection only at 10.
            event("on-hand-count", "stock.counted", quantity=5, ms=20),
            event("both-count", "stock.counted", quantity=3, ms=10, counts={"quality_inspection": 4}),
            # At 15: after quality inspection's watermark, before on_hand's.
            event("passed", "inspection.passed", quantity=2, ms=15),
        ]
    )

    position = ledger.position("MAT-1", "S1")
    assert outcomes == [APPLIED, APPLIED, APPLIED]
    assert (position.on_hand, position.quality_inspection) == (5, 4 - 2)


def test_a_count_of_another_stock_type_leaves_on_hand_deltas_alone():
    ledger, _ = apply_all(
        [
            event("blocked-count", "stock.counted", quantity=0, ms=10, counts={"blocked": 6}),
            event("on-hand-count", "stock.counted", quantity=10, ms=30),
            # Blocking at 20 moves on_hand (under the newer count: skipped) and blocked (counted at 10: applied).
            event("block", "stock.blocked", quantity=2, ms=20),
        ]
    )

    position = ledger.position("MAT-1", "S1")
    assert (position.on_hand, position.blocked) == (10, 8)


def test_a_delta_whose_every_field_is_under_a_watermark_is_stale():
    _, outcomes = apply_all(
        [
            event("count", "stock.counted", quantity=3, ms=10, counts={"quality_inspection": 1}),
            event("passed", "inspection.passed", quantity=1, ms=9),
        ]
    )

    assert outcomes == [APPLIED, STALE]


def test_a_transfer_moves_stock_between_the_two_locations_of_one_sku():
    ledger, _ = apply_all(
        [
            event("r", "stock.received", quantity=10, location="D1", ms=1),
            event("ship", "transfer.shipped", quantity=4, location="D1", to_location="S1", ms=2),
            event("arrive", "transfer.received", quantity=4, location="S1", ms=3),
            event("move", "transfer.moved", quantity=1, location="S1", to_location="S2", ms=4),
        ]
    )

    assert ledger.position("MAT-1", "D1").on_hand == 6
    assert (ledger.position("MAT-1", "S1").on_hand, ledger.position("MAT-1", "S1").in_transit) == (3, 0)
    assert ledger.position("MAT-1", "S2").on_hand == 1


def test_a_count_at_the_destination_includes_a_later_transfer_in():
    ledger, _ = apply_all(
        [
            event("ship", "transfer.shipped", quantity=4, location="D1", to_location="S1", ms=20),
            event("count", "stock.counted", quantity=2, location="S1", ms=10, counts={"in_transit": 1}),
        ]
    )

    assert ledger.position("MAT-1", "S1").in_transit == 1 + 4


def test_an_issue_below_zero_is_applied_and_flags_the_position_negative():
    ledger, outcomes = apply_all(
        [
            event("r", "stock.received", quantity=3, ms=1),
            event("i", "stock.issued", quantity=5, ms=2),
        ]
    )

    position = ledger.position("MAT-1", "S1")
    assert outcomes == [APPLIED, APPLIED]
    assert (position.on_hand, position.negative) == (-2, True)

    ledger.apply(event("r2", "stock.received", quantity=2, ms=3))
    assert (position.on_hand, position.negative) == (0, False)


def test_positions_of_different_skus_are_independent():
    ledger, _ = apply_all(
        [
            event("a", "stock.counted", sku="MAT-1", quantity=5, ms=10),
            event("b", "stock.received", sku="MAT-2", quantity=2, ms=5),
        ]
    )

    assert ledger.position("MAT-2", "S1").on_hand == 2


def test_every_arrival_order_gives_the_same_positions():
    events = [
        event("r", "stock.received", quantity=10, ms=1),
        event("ret", "stock.returned", quantity=3, ms=2),
        event("c1", "stock.counted", quantity=8, ms=3, counts={"quality_inspection": 2}),
        event("p", "inspection.passed", quantity=1, ms=4),
        event("i", "stock.issued", quantity=4, ms=5),
        event("c2", "stock.counted", quantity=6, ms=6),
    ]
    expected, _ = apply_all(events)

    for order in permutations(events):
        ledger, _ = apply_all(order)
        assert ledger.position("MAT-1", "S1") == expected.position("MAT-1", "S1"), order
    assert expected.position("MAT-1", "S1").quantities() == {
        "on_hand": 6,
        "quality_inspection": 1,
        "blocked": 0,
        "in_transit": 0,
        "reserved": 0,
    }
