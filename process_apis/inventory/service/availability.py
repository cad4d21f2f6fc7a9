"""Availability queries: positions and location groups for one channel, computed on demand
from the ledger, the rules and the catalogue as they are right now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from shared.errors import Problem

from ..domain.availability import (
    GroupAvailability,
    PositionAvailability,
    group_availability,
    held_for_other_channels,
    position_availability,
)
from ..domain.incoming import Incoming, incoming
from ..domain.ledger import Position
from ..domain.locations import Catalogue, Location, LocationGroup
from ..domain.rules import RuleSet

if TYPE_CHECKING:  # bootstrap imports the services it wires
    from ..bootstrap import Inventory


class AvailabilityResult(TypedDict):
    """What GET /availability answers, before it is JSON: the positions, or per SKU the group."""

    as_of: datetime
    channel: str | None
    positions: list[PositionAvailability]
    groups: list[GroupAvailability]
    #: with include=incoming: per (sku, location), the shipments its in_transit is made of
    incoming: NotRequired[dict[tuple[str, str], list[Incoming]]]


def _unknown(kind: str, ids: list[str]) -> Problem:
    return Problem(404, f"unknown {kind}: {', '.join(ids)}", type_slug=f"unknown-{kind.replace(' ', '-')}")


def query(
    inventory: Inventory,
    *,
    skus: list[str],
    locations: list[str],
    location_group: str | None,
    channel: str | None,
    include_incoming: bool = False,
) -> AvailabilityResult:
    now = datetime.now(UTC)
    holding = inventory.ledger.locations_holding(skus, near=True) if not (locations or location_group) else {}

    def pairs_for(catalogue: Catalogue) -> list[tuple[str, str]]:
        if location_group:
            group = catalogue.groups.get(location_group)
            members = [loc.id for loc in catalogue.members_serving(group, channel)] if group else []
            return [(sku, loc) for sku in skus for loc in members]
        if locations:
            return [(sku, loc) for sku in skus for loc in locations if loc in catalogue.locations]
        return [(sku, loc) for sku in skus for loc in holding[sku] if loc in catalogue.locations]

    catalogue, rules, positions = inventory.ledger.read_consistent(pairs_for, near=True)
    group = catalogue.groups.get(location_group) if location_group else None
    if location_group and group is None:
        raise _unknown("location group", [location_group])
    missing = [loc for loc in locations if loc not in catalogue.locations]
    if missing:
        raise _unknown("location", missing)

    computed = [position_view(catalogue, rules, position, channel, now) for position in positions]
    result: AvailabilityResult = {"as_of": now, "channel": channel, "positions": computed, "groups": []}
    if group is not None:
        result["positions"] = []
        for sku in skus:
            members = [p for p in computed if p.sku == sku]
            result["groups"].append(
                group_view(rules, group, sku, members, [p for p in positions if p.sku == sku], channel, now)
            )
    if include_incoming:
        result["incoming"] = incoming_view(inventory, catalogue, rules, positions)
    return result


def incoming_view(
    inventory: Inventory, catalogue: Catalogue, rules: RuleSet, positions: list[Position]
) -> dict[tuple[str, str], list[Incoming]]:
    """Per (sku, location): the shipments its in_transit is made of, with their ETAs. Asked for
    apart (one more round trip), so the plain availability read stays as it is."""
    shipments = inventory.ledger.shipments([(p.sku, p.location) for p in positions])
    view: dict[tuple[str, str], list[Incoming]] = {}
    for position, towards in zip(positions, shipments):

        def transit_time(origin: str, to: Location = catalogue.locations[position.location]) -> timedelta | None:
            return rules.transit_time(catalogue.locations.get(origin), to)

        view[(position.sku, position.location)] = incoming(towards, position.in_transit, transit_time)
    return view


def position_view(
    catalogue: Catalogue, rules: RuleSet, position: Position, channel: str | None, now: datetime
) -> PositionAvailability:
    """What `channel` may sell of one position under the rules."""
    location = catalogue.locations[position.location]
    return position_availability(
        position,
        channel=channel,
        serves_channel=location.serves(channel),
        safety_stock=rules.safety_stock_for(position.sku, location, channel),
        allocations=rules.allocations_at(position.sku, location=position.location, now=now),
        sells_incoming=rules.sells_incoming(channel),
        low_stock_threshold=rules.low_stock_threshold(position.sku, location, channel),
    )


def group_view(
    rules: RuleSet,
    group: LocationGroup,
    sku: str,
    members: list[PositionAvailability],
    positions: list[Position],
    channel: str | None,
    now: datetime,
) -> GroupAvailability:
    """What `channel` may sell of `sku` across a group, from its members serving that channel
    (`members`, computed from their `positions`)."""
    reserved_by_channel: dict[str, int] = {}
    for position in positions:
        for ch, units in position.reserved_by_channel.items():
            reserved_by_channel[ch] = reserved_by_channel.get(ch, 0) + units
    fences = rules.allocations_at(sku, location_group=group.id, now=now)
    return group_availability(
        sku,
        group.id,
        members,
        channel=channel,
        group_held_for_others=held_for_other_channels(fences, reserved_by_channel, channel),
        low_stock_threshold=rules.low_stock_threshold(sku, None, channel),
    )


def candidate(rules: RuleSet, sku: str, location: Location, channel: str, now: datetime) -> dict[str, Any]:
    """What the Lua hold script needs to compute availability at one location, as data."""
    safety = rules.safety_stock_for(sku, location, channel)
    return {
        "loc": location.id,
        "ss_units": safety.units,
        "ss_pct": safety.percent,
        "alloc": rules.allocations_at(sku, location=location.id, now=now),
    }
