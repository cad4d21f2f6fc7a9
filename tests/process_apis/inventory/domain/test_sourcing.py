"""Sourcing a reservation line over the members of a location group."""

from process_apis.inventory.domain.sourcing import source_line

CANDIDATES = [("S1", 3), ("S2", 5), ("D1", 10)]


def test_priority_fills_from_the_first_member_that_has_stock():
    assert source_line(CANDIDATES, 2, "priority") == [("S1", 2)]


def test_priority_splits_a_line_over_members_in_group_order():
    assert source_line(CANDIDATES, 6, "priority") == [("S1", 3), ("S2", 3)]


def test_most_available_takes_from_the_fullest_member_first():
    assert source_line(CANDIDATES, 6, "most_available") == [("D1", 6)]
    assert source_line(CANDIDATES, 12, "most_available") == [("D1", 10), ("S2", 2)]


def test_most_available_ties_keep_group_order():
    candidates = [("S1", 4), ("S2", 4), ("S3", 4)]

    assert source_line(candidates, 6, "most_available") == [("S1", 4), ("S2", 2)]


def test_members_without_stock_are_skipped():
    assert source_line([("S1", 0), ("S2", 2)], 2, "priority") == [("S2", 2)]


def test_short_supply_returns_what_there_is():
    assert source_line(CANDIDATES, 100, "priority") == [("S1", 3), ("S2", 5), ("D1", 10)]
    assert source_line([("S1", 0)], 1, "most_available") == []
    assert source_line([], 1, "priority") == []
