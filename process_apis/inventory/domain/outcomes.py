"""`availability.changed` outcomes: which (SKU, location or group, channel) keys a SKU's change
touches, and the value published for each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .availability import OUT_OF_STOCK
from .locations import Catalogue
from .rules import RuleSet


@dataclass(frozen=True)
class OutcomeKey:
    """One SKU at one location, or across one location group, for one channel."""

    sku: str
    location: str | None
    location_group: str | None
    channel: str


@dataclass(frozen=True)
class OutcomeValue:
    available_to_sell: int
    available_to_order: int
    status: str


#: What a key is worth once it no longer exists (a location stopped serving a channel, left a group).
GONE = OutcomeValue(0, 0, OUT_OF_STOCK)


def known_channels(catalogue: Catalogue) -> tuple[str, ...]:
    """Every channel a location or group names; a location naming none serves all of them."""
    named = {c for location in catalogue.locations.values() for c in location.channels}
    return tuple(sorted(named | {g.channel for g in catalogue.groups.values() if g.channel}))


def outcome_keys(catalogue: Catalogue, sku: str, locations: list[str]) -> list[OutcomeKey]:
    """The keys a change of `sku` at `locations` touches: (sku, L, c) for each channel c that L
    serves, and (sku, G, G's channel) for each group G holding one of the locations."""
    channels = known_channels(catalogue)
    keys, groups = [], set()
    for location_id in locations:
        location = catalogue.locations.get(location_id)
        if location is None:
            continue
        keys += [OutcomeKey(sku, location_id, None, c) for c in location.channels or channels]
        groups |= {g.id for g in catalogue.groups.values() if location_id in g.members}
    for group_id in sorted(groups):
        group = catalogue.groups[group_id]
        keys += [OutcomeKey(sku, None, group_id, c) for c in ((group.channel,) if group.channel else channels)]
    return keys


def rule_window_passed(rules: RuleSet, after: datetime, until: datetime) -> bool:
    """Whether a time-boxed allocation started or ended in (after, until]: availability moved
    with no event, so every SKU is computed again."""
    edges = (moment for rule in rules.allocations for moment in (rule.starts_at, rule.ends_at) if moment)
    return any(after < edge <= until for edge in edges)
