"""Availability maths: what a channel may sell at a position or across a location group.

available_to_sell = max(0, on_hand − reserved − safety_stock − allocations held for other channels)
at a location serving the channel, 0 elsewhere. An allocation is "held" for a channel while that channel's
own reservations have not used it up, so a channel's reservations drain its own ring-fence before the shared
pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from .ledger import Position
from .rules import SafetyStock

IN_STOCK = "in_stock"
LOW_STOCK = "low_stock"
OUT_OF_STOCK = "out_of_stock"


def held_for_other_channels(
    allocations: dict[str, int], reserved_by_channel: dict[str, int], channel: str | None
) -> int:
    return sum(
        max(0, units - reserved_by_channel.get(other, 0)) for other, units in allocations.items() if other != channel
    )


def available_to_sell(*, on_hand: int, reserved: int, safety_stock: int, held_for_others: int) -> int:
    return max(0, on_hand - reserved - safety_stock - held_for_others)


def stock_status(available: int, low_stock_threshold: int) -> str:
    if available <= 0:
        return OUT_OF_STOCK
    return LOW_STOCK if available <= low_stock_threshold else IN_STOCK


@dataclass(frozen=True, kw_only=True)
class Availability:
    """What one channel may sell of one SKU somewhere, with the quantities behind it."""

    sku: str
    channel: str | None
    on_hand: int
    reserved: int
    safety_stock: int
    allocated: int
    quality_inspection: int
    blocked: int
    in_transit: int
    available_to_sell: int
    available_to_order: int
    negative: bool
    status: str


@dataclass(frozen=True, kw_only=True)
class PositionAvailability(Availability):
    location: str


def position_availability(
    position: Position,
    *,
    channel: str | None,
    serves_channel: bool,
    safety_stock: SafetyStock,
    allocations: dict[str, int],
    sells_incoming: bool,
    low_stock_threshold: int,
) -> PositionAvailability:
    """`serves_channel`: whether the location sells to `channel`. Where it does not, a reservation for that
    channel is refused, so nothing there is sellable for it (the stock figures are still shown)."""
    safety = safety_stock.units_for(position.on_hand)
    held = held_for_other_channels(allocations, position.reserved_by_channel, channel)
    sellable = available_to_sell(
        on_hand=position.on_hand, reserved=position.reserved, safety_stock=safety, held_for_others=held
    )
    orderable = sellable + max(position.in_transit, 0) if sells_incoming else sellable
    if not serves_channel:
        sellable = orderable = 0
    return PositionAvailability(
        sku=position.sku,
        location=position.location,
        channel=channel,
        on_hand=position.on_hand,
        reserved=position.reserved,
        safety_stock=safety,
        allocated=held,
        quality_inspection=position.quality_inspection,
        blocked=position.blocked,
        in_transit=position.in_transit,
        available_to_sell=sellable,
        available_to_order=orderable,
        negative=position.negative,
        status=stock_status(orderable, low_stock_threshold),
    )


@dataclass(frozen=True, kw_only=True)
class GroupAvailability(Availability):
    location_group: str
    locations: tuple[PositionAvailability, ...]


def group_availability(
    sku: str,
    group_id: str,
    members: list[PositionAvailability],
    *,
    channel: str | None,
    group_held_for_others: int,
    low_stock_threshold: int,
) -> GroupAvailability:
    """Sum the members; a ring-fence at group level comes off the group's total."""
    total = {
        name: sum(getattr(m, name) for m in members)
        for name in (
            "on_hand",
            "reserved",
            "safety_stock",
            "allocated",
            "quality_inspection",
            "blocked",
            "in_transit",
            "available_to_sell",
            "available_to_order",
        )
    }
    sellable = max(0, total["available_to_sell"] - group_held_for_others)
    orderable = max(0, total["available_to_order"] - group_held_for_others)
    return GroupAvailability(
        sku=sku,
        location_group=group_id,
        channel=channel,
        on_hand=total["on_hand"],
        reserved=total["reserved"],
        safety_stock=total["safety_stock"],
        allocated=total["allocated"] + group_held_for_others,
        quality_inspection=total["quality_inspection"],
        blocked=total["blocked"],
        in_transit=total["in_transit"],
        available_to_sell=sellable,
        available_to_order=orderable,
        negative=any(m.negative for m in members),
        status=stock_status(orderable, low_stock_threshold),
        locations=tuple(members),
    )
