"""What a position's in_transit is made of: the newest shipments, with their ETAs (pure domain)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from process_apis.inventory.domain.incoming import Incoming, Shipment, incoming
from process_apis.inventory.domain.locations import Location
from process_apis.inventory.domain.rules import RuleSet, TransitTimeRule
from tests.support.inventory import at

HOUR_MS = 3_600_000


def no_rule(_origin):
    return None


def epoch_ms(ms: int) -> int:
    """Test-clock milliseconds (see tests/support/inventory.at) as epoch milliseconds."""
    return int(at(ms).timestamp() * 1000)


def shipment(event_id, quantity, shipped_ms, eta_ms=None, origin="D1"):
    return Shipment(
        event_id,
        quantity,
        epoch_ms(shipped_ms),
        origin,
        expected_at_ms=epoch_ms(eta_ms) if eta_ms is not None else None,
    )


def test_in_transit_is_covered_by_the_newest_shipments_soonest_expected_first():
    shipments = [shipment("a", 5, 1, eta_ms=30 * HOUR_MS), shipment("b", 3, 2, eta_ms=10 * HOUR_MS)]

    assert incoming(shipments, 4, no_rule) == [
        Incoming(3, at(10 * HOUR_MS), "D1", None),
        Incoming(1, at(30 * HOUR_MS), "D1", None),
    ]


def test_units_no_shipment_explains_have_no_origin_and_come_last():
    assert incoming([shipment("a", 2, 1)], 5, lambda _: timedelta(hours=1)) == [
        Incoming(2, at(1) + timedelta(hours=1), "D1", None),
        Incoming(3, None, None, None),
    ]


def test_nothing_is_incoming_when_in_transit_is_zero_or_negative():
    assert incoming([shipment("a", 2, 1)], 0, no_rule) == []
    assert incoming([shipment("a", 2, 1)], -3, no_rule) == []


def test_the_eta_the_source_gave_wins_over_the_rule():
    assert incoming([shipment("a", 1, 1, eta_ms=5)], 1, lambda _: timedelta(hours=9))[0].expected_at == at(5)


@given(
    st.lists(st.tuples(st.integers(1, 9), st.integers(0, 50)), max_size=8, unique_by=lambda t: t[1]),
    st.integers(-5, 80),
)
def test_incoming_always_adds_up_to_in_transit(sent, in_transit):
    shipments = [shipment(f"s{ms}", quantity, ms) for quantity, ms in sent]

    listed = incoming(shipments, in_transit, no_rule)

    assert sum(item.quantity for item in listed) == max(in_transit, 0)
    assert all(item.quantity > 0 for item in listed)


STORE, DC = Location("S1", "store"), Location("D1", "dc")


def test_the_most_specific_transit_time_wins():
    rules = RuleSet(
        transit_times=(
            TransitTimeRule(72),
            TransitTimeRule(24, to_location_type="store"),
            TransitTimeRule(48, from_location_type="dc", to_location_type="store"),
            TransitTimeRule(12, from_location_type="dc"),
        )
    )

    assert rules.transit_time(DC, STORE) == timedelta(hours=48)
    assert rules.transit_time(STORE, STORE) == timedelta(hours=24)
    assert rules.transit_time(DC, DC) == timedelta(hours=12)
    assert rules.transit_time(None, DC) == timedelta(hours=72)  # an origin no longer known


def test_without_a_transit_time_rule_there_is_no_eta():
    assert RuleSet().transit_time(DC, STORE) is None
