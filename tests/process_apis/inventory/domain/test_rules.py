"""Rule matching: the most specific rule wins; percent safety stock, time windows, bands, groups."""

from datetime import timedelta

import pytest

from process_apis.inventory.domain.locations import Location
from process_apis.inventory.domain.rules import (
    AllocationRule,
    LowStockRule,
    RuleSet,
    SafetyStock,
    SafetyStockRule,
    Selector,
    ambiguous_selectors,
)
from tests.support.inventory import T0

S1 = Location("S1", "store")
S2 = Location("S2", "store")
D1 = Location("D1", "dc")
CATEGORIES = {"apparel": ("TS-*",)}

PRECEDENCE = [
    SafetyStockRule(Selector(), units=1),
    SafetyStockRule(Selector(channel="web"), units=2),
    SafetyStockRule(Selector(location_type="store"), units=3),
    SafetyStockRule(Selector(location="S1"), units=4),
    SafetyStockRule(Selector(category="apparel"), units=5),
    SafetyStockRule(Selector(sku="TS-1"), units=6),
    SafetyStockRule(Selector(sku="TS-1", location="S1"), units=7),
    SafetyStockRule(Selector(sku="TS-1", location="S1", channel="web"), units=8),
]


@pytest.mark.parametrize(
    ("sku", "location", "channel", "units"),
    [
        ("TS-1", S1, "web", 8),  # everything named
        ("TS-1", S1, "store", 7),  # a channel rule for another channel does not match
        ("TS-1", S2, "web", 6),  # SKU beats location, location type and channel
        ("TS-9", S1, "web", 5),  # category beats location
        ("MUG-1", S1, "web", 4),  # location beats location type and channel
        ("MUG-1", S2, "web", 3),  # location type beats channel
        ("MUG-1", D1, "web", 2),  # channel beats nothing
        ("MUG-1", D1, None, 1),  # the catch-all
    ],
)
@pytest.mark.parametrize("listed", ["in order", "reversed"])
def test_the_most_specific_safety_stock_rule_wins(sku, location, channel, units, listed):
    rules = PRECEDENCE if listed == "in order" else list(reversed(PRECEDENCE))
    rule_set = RuleSet(safety_stock=tuple(rules), categories=CATEGORIES)

    assert rule_set.safety_stock_for(sku, location, channel) == SafetyStock(units=units)


def test_no_matching_rule_means_no_safety_stock():
    rule_set = RuleSet(safety_stock=(SafetyStockRule(Selector(sku="OTHER"), units=9),))

    assert rule_set.safety_stock_for("MAT-1", S1, "web").units_for(100) == 0


def test_a_category_rule_matches_skus_by_pattern():
    rule_set = RuleSet(categories={"apparel": ("TS-*", "SOCK-?")})

    assert rule_set.categories_of("TS-100") == {"apparel"}
    assert rule_set.categories_of("SOCK-1") == {"apparel"}
    assert rule_set.categories_of("SOCK-12") == frozenset()


@pytest.mark.parametrize(("on_hand", "units"), [(0, 0), (1, 1), (10, 1), (11, 2), (20, 2), (21, 3), (-5, 0)])
def test_percent_safety_stock_rounds_up(on_hand, units):
    rule_set = RuleSet(safety_stock=(SafetyStockRule(Selector(), percent=10),))

    assert rule_set.safety_stock_for("MAT-1", S1, None).units_for(on_hand) == units


def test_a_more_specific_units_rule_overrides_a_percent_rule():
    rule_set = RuleSet(
        safety_stock=(SafetyStockRule(Selector(), percent=50), SafetyStockRule(Selector(location="S1"), units=1))
    )

    assert rule_set.safety_stock_for("MAT-1", S1, None).units_for(100) == 1
    assert rule_set.safety_stock_for("MAT-1", S2, None).units_for(100) == 50


def test_an_allocation_applies_only_inside_its_time_window():
    start, end = T0, T0 + timedelta(hours=2)
    rule_set = RuleSet(allocations=(AllocationRule("web", 5, location="S1", starts_at=start, ends_at=end),))

    def fenced(now):
        return rule_set.allocations_at("MAT-1", location="S1", now=now)

    assert fenced(start - timedelta(seconds=1)) == {}
    assert fenced(start) == {"web": 5}
    assert fenced(end - timedelta(seconds=1)) == {"web": 5}
    assert fenced(end) == {}


def test_an_open_ended_allocation_applies_from_its_start_on():
    rule_set = RuleSet(allocations=(AllocationRule("web", 5, location="S1", starts_at=T0),))

    assert rule_set.allocations_at("MAT-1", location="S1", now=T0 - timedelta(days=1)) == {}
    assert rule_set.allocations_at("MAT-1", location="S1", now=T0 + timedelta(days=365)) == {"web": 5}


def test_an_allocation_applies_at_exactly_its_location_or_group():
    rule_set = RuleSet(
        allocations=(AllocationRule("web", 5, location="S1"), AllocationRule("store", 2, location_group="WEB"))
    )

    assert rule_set.allocations_at("MAT-1", location="S1", now=T0) == {"web": 5}
    assert rule_set.allocations_at("MAT-1", location="S2", now=T0) == {}
    assert rule_set.allocations_at("MAT-1", location_group="WEB", now=T0) == {"store": 2}


def test_per_channel_the_most_specific_allocation_wins():
    rule_set = RuleSet(
        allocations=(
            AllocationRule("web", 10, location="S1"),
            AllocationRule("web", 4, location="S1", category="apparel"),
            AllocationRule("web", 1, location="S1", sku="TS-1"),
            AllocationRule("store", 3, location="S1"),
            AllocationRule("web", 99, location="S1", sku="OTHER"),
        ),
        categories=CATEGORIES,
    )

    assert rule_set.allocations_at("TS-1", location="S1", now=T0) == {"web": 1, "store": 3}
    assert rule_set.allocations_at("TS-2", location="S1", now=T0) == {"web": 4, "store": 3}
    assert rule_set.allocations_at("MUG-1", location="S1", now=T0) == {"web": 10, "store": 3}


def test_the_low_stock_threshold_comes_from_the_most_specific_rule():
    rule_set = RuleSet(
        low_stock=(
            LowStockRule(Selector(), 5),
            LowStockRule(Selector(sku="MAT-1", channel="web"), 2),
            LowStockRule(Selector(location_type="dc"), 50),
        )
    )

    assert rule_set.low_stock_threshold("MAT-1", S1, "web") == 2
    assert rule_set.low_stock_threshold("MAT-1", S1, "store") == 5
    assert rule_set.low_stock_threshold("MAT-2", D1, "web") == 50
    assert RuleSet().low_stock_threshold("MAT-1", S1, "web") == 0


def test_a_group_query_matches_only_rules_that_name_no_location():
    rule_set = RuleSet(
        low_stock=(
            LowStockRule(Selector(), 5),
            LowStockRule(Selector(location="S1"), 7),
            LowStockRule(Selector(location_type="store"), 9),
            LowStockRule(Selector(sku="MAT-1", channel="web"), 3),
        )
    )

    assert rule_set.low_stock_threshold("MAT-1", None, "web") == 3
    assert rule_set.low_stock_threshold("MAT-2", None, "web") == 5
    assert not Selector(location_type="store").matches("MAT-1", frozenset(), None, "web")
    assert Selector(sku="MAT-1").matches("MAT-1", frozenset(), None, None)


def test_a_channel_rule_does_not_match_a_query_without_a_channel():
    assert not Selector(channel="web").matches("MAT-1", frozenset(), S1, None)


def test_two_rules_with_the_same_selector_are_ambiguous():
    rules = (
        SafetyStockRule(Selector(sku="MAT-1"), units=1),
        SafetyStockRule(Selector(sku="MAT-1"), percent=5),
        SafetyStockRule(Selector(sku="MAT-1", channel="web"), units=2),
    )

    assert ambiguous_selectors(rules) == [Selector(sku="MAT-1")]
    assert ambiguous_selectors(rules[1:]) == []


def test_only_listed_channels_sell_incoming_stock():
    rule_set = RuleSet(channels_selling_incoming=("web",))

    assert rule_set.sells_incoming("web")
    assert not rule_set.sells_incoming("store")
    assert not rule_set.sells_incoming(None)
