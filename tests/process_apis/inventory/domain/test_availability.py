"""Availability maths: the formula, ring-fences, incoming stock, status bands, group totals."""

import pytest

from process_apis.inventory.domain.availability import (
    IN_STOCK,
    LOW_STOCK,
    OUT_OF_STOCK,
    available_to_sell,
    group_availability,
    held_for_other_channels,
    position_availability,
    stock_status,
)
from process_apis.inventory.domain.ledger import Position
from process_apis.inventory.domain.rules import SafetyStock


def availability(
    position, *, channel="web", serves=True, safety=SafetyStock(), allocations=None, sells_incoming=False, threshold=0
):
    return position_availability(
        position,
        channel=channel,
        serves_channel=serves,
        safety_stock=safety,
        allocations=allocations or {},
        sells_incoming=sells_incoming,
        low_stock_threshold=threshold,
    )


def test_available_to_sell_takes_off_reserved_safety_stock_and_other_channels_fences():
    assert available_to_sell(on_hand=10, reserved=2, safety_stock=1, held_for_others=3) == 4


@pytest.mark.parametrize(
    "kwargs",
    [
        {"on_hand": 3, "reserved": 5, "safety_stock": 0, "held_for_others": 0},
        {"on_hand": -4, "reserved": 0, "safety_stock": 0, "held_for_others": 0},
        {"on_hand": 5, "reserved": 0, "safety_stock": 4, "held_for_others": 4},
    ],
)
def test_available_to_sell_is_never_below_zero(kwargs):
    assert available_to_sell(**kwargs) == 0


def test_a_channel_is_not_kept_out_of_its_own_fence():
    allocations = {"web": 5, "store": 3}

    assert held_for_other_channels(allocations, {}, "web") == 3
    assert held_for_other_channels(allocations, {}, "store") == 5
    assert held_for_other_channels(allocations, {}, None) == 8


def test_a_channels_reservations_use_up_its_fence_first():
    assert held_for_other_channels({"web": 5}, {"web": 2}, "store") == 3
    assert held_for_other_channels({"web": 5}, {"web": 7}, "store") == 0


def test_nothing_is_sellable_or_orderable_for_a_channel_the_location_does_not_serve():
    found = availability(Position("MAT-1", "S1", on_hand=10, in_transit=5), serves=False, sells_incoming=True)

    assert (found.on_hand, found.available_to_sell, found.available_to_order) == (10, 0, 0)
    assert found.status == OUT_OF_STOCK


def test_own_channel_reservations_drain_the_own_fence_not_the_shared_pool():
    position = Position("MAT-1", "S1", on_hand=10, reserved=3, reserved_by_channel={"web": 3})
    fences = {"web": 4}

    web = availability(position, channel="web", allocations=fences)
    store = availability(position, channel="store", allocations=fences)

    assert (web.available_to_sell, web.allocated) == (7, 0)
    # 10 on hand − 3 reserved (all from web's fence) − the 1 unit of web's fence still unused.
    assert (store.available_to_sell, store.allocated) == (6, 1)


def test_position_availability_applies_percent_safety_stock_to_on_hand():
    position = Position("MAT-1", "S1", on_hand=11)

    result = availability(position, safety=SafetyStock(percent=10))

    assert (result.safety_stock, result.available_to_sell) == (2, 9)


def test_a_channel_selling_incoming_stock_may_order_what_is_in_transit():
    position = Position("MAT-1", "S1", on_hand=4, in_transit=6)

    assert availability(position, sells_incoming=True).available_to_order == 10
    assert availability(position, sells_incoming=False).available_to_order == 4
    assert availability(position, sells_incoming=True).available_to_sell == 4


def test_negative_in_transit_adds_nothing_to_order():
    position = Position("MAT-1", "S1", on_hand=4, in_transit=-2)

    assert availability(position, sells_incoming=True).available_to_order == 4


def test_a_negative_position_is_reported_and_sells_nothing():
    result = availability(Position("MAT-1", "S1", on_hand=-3))

    assert (result.negative, result.available_to_sell, result.status) == (True, 0, OUT_OF_STOCK)


@pytest.mark.parametrize(
    ("available", "threshold", "status"),
    [
        (0, 0, OUT_OF_STOCK),
        (0, 5, OUT_OF_STOCK),
        (1, 5, LOW_STOCK),
        (5, 5, LOW_STOCK),
        (6, 5, IN_STOCK),
        (1, 0, IN_STOCK),
    ],
)
def test_status_bands(available, threshold, status):
    assert stock_status(available, threshold) == status


def test_status_follows_what_may_be_ordered():
    position = Position("MAT-1", "S1", on_hand=0, in_transit=20)

    assert availability(position, sells_incoming=True, threshold=5).status == IN_STOCK
    assert availability(position, sells_incoming=False, threshold=5).status == OUT_OF_STOCK


def test_a_position_reports_every_quantity_it_was_computed_from():
    position = Position(
        "MAT-1",
        "S1",
        on_hand=10,
        quality_inspection=1,
        blocked=2,
        in_transit=3,
        reserved=4,
        reserved_by_channel={"web": 4},
    )

    result = availability(position, safety=SafetyStock(units=1), allocations={"store": 2}, threshold=1)

    assert (result.on_hand, result.reserved, result.safety_stock, result.allocated) == (10, 4, 1, 2)
    assert (result.quality_inspection, result.blocked, result.in_transit) == (1, 2, 3)
    assert (result.available_to_sell, result.status) == (3, IN_STOCK)


def test_a_group_sums_its_members_and_takes_a_group_fence_off_the_total():
    members = [
        availability(Position("MAT-1", "S1", on_hand=10, in_transit=2, reserved=1), sells_incoming=True),
        availability(Position("MAT-1", "S2", on_hand=5, blocked=1), sells_incoming=True),
    ]

    group = group_availability("MAT-1", "WEB", members, channel="web", group_held_for_others=4, low_stock_threshold=3)

    assert (group.on_hand, group.reserved, group.in_transit, group.blocked) == (15, 1, 2, 1)
    assert group.available_to_sell == 9 + 5 - 4
    assert group.available_to_order == 11 + 5 - 4
    assert group.allocated == 4
    assert (group.status, group.negative, group.locations) == (IN_STOCK, False, tuple(members))


def test_a_group_fence_larger_than_the_stock_leaves_zero_not_less():
    members = [availability(Position("MAT-1", "S1", on_hand=2))]

    group = group_availability("MAT-1", "WEB", members, channel="web", group_held_for_others=5, low_stock_threshold=0)

    assert (group.available_to_sell, group.available_to_order, group.status) == (0, 0, OUT_OF_STOCK)


def test_a_group_is_negative_when_any_member_is():
    members = [availability(Position("MAT-1", "S1", on_hand=5)), availability(Position("MAT-1", "S2", on_hand=-1))]

    group = group_availability("MAT-1", "WEB", members, channel="web", group_held_for_others=0, low_stock_threshold=0)

    assert group.negative and group.on_hand == 4 and group.available_to_sell == 5
