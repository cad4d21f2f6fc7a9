"""The value of every outcome key of some SKUs, computed now with the process API's own
availability maths from one consistent read of positions, rules and catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..domain.availability import GroupAvailability, PositionAvailability
from ..domain.ledger import Position
from ..domain.outcomes import OutcomeKey, OutcomeValue, outcome_keys
from ..service.availability import group_view, position_view

if TYPE_CHECKING:  # bootstrap imports the services it wires
    from ..bootstrap import Inventory


def current_values(inventory: Inventory, skus: list[str], now: datetime) -> dict[OutcomeKey, OutcomeValue]:
    holding = inventory.ledger.locations_holding(skus)

    def pairs_for(catalogue) -> list[tuple[str, str]]:
        pairs = set()
        for sku in skus:
            for key in outcome_keys(catalogue, sku, holding[sku]):
                places = [key.location] if key.location else catalogue.groups[key.location_group].members
                pairs |= {(sku, place) for place in places if place in catalogue.locations}
        return sorted(pairs)

    catalogue, rules, positions = inventory.ledger.read_consistent(pairs_for)
    by_pair = {(p.sku, p.location): p for p in positions}

    def position(sku: str, location: str) -> Position:
        # read_consistent may end on a catalogue newer than its last plan: a position it did not
        # read counts as empty rather than failing the batch; the catalogue's new version makes
        # the publisher compute every SKU again anyway.
        return by_pair.get((sku, location)) or Position(sku=sku, location=location)

    values = {}
    for sku in skus:
        for key in outcome_keys(catalogue, sku, holding[sku]):
            view: PositionAvailability | GroupAvailability
            if key.location:
                view = position_view(catalogue, rules, position(sku, key.location), key.channel, now)
            else:
                assert key.location_group is not None  # an outcome key names a location or a group
                group = catalogue.groups[key.location_group]
                members = [position(sku, m.id) for m in catalogue.members_serving(group, key.channel)]
                views = [position_view(catalogue, rules, m, key.channel, now) for m in members]
                view = group_view(rules, group, sku, views, members, key.channel, now)
            values[key] = OutcomeValue(view.available_to_sell, view.available_to_order, view.status)
    return values
