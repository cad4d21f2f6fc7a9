"""Availability rules as data: safety stock, channel allocations, low-stock bands, transit times.

A rule names what it applies to with a selector; when several match, the most specific wins:
SKU over category over any, then location over location type over any, then channel over any.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from .locations import Location


@dataclass(frozen=True)
class Selector:
    sku: str | None = None
    category: str | None = None
    location: str | None = None
    location_type: str | None = None
    channel: str | None = None

    def specificity(self) -> tuple[int, int, int]:
        sku_level = 2 if self.sku else 1 if self.category else 0
        location_level = 2 if self.location else 1 if self.location_type else 0
        return (sku_level, location_level, 1 if self.channel else 0)

    def matches(self, sku: str, categories: frozenset[str], location: Location | None, channel: str | None) -> bool:
        """A None location (asked for a location group) matches only rules that name no location."""
        if location is None:
            location_ok = self.location is None and self.location_type is None
        else:
            location_ok = self.location in (None, location.id) and self.location_type in (None, location.type)
        return (
            location_ok
            and self.sku in (None, sku)
            and (self.category is None or self.category in categories)
            and self.channel in (None, channel)
        )


@dataclass(frozen=True)
class SafetyStockRule:
    selector: Selector
    units: int | None = None
    percent: float | None = None


@dataclass(frozen=True)
class AllocationRule:
    """Units ring-fenced for one channel at a location or a location group, maybe time-boxed."""

    channel: str
    units: int
    sku: str | None = None
    category: str | None = None
    location: str | None = None
    location_group: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def active_at(self, now: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (self.ends_at is None or now < self.ends_at)

    def covers_sku(self, sku: str, categories: frozenset[str]) -> bool:
        return (self.sku is None or self.sku == sku) and (self.category is None or self.category in categories)


@dataclass(frozen=True)
class LowStockRule:
    selector: Selector
    threshold: int


@dataclass(frozen=True)
class TransitTimeRule:
    """How long a transfer takes from one location type to another (None: any); the default ETA
    of a shipment whose source said none."""

    hours: float
    from_location_type: str | None = None
    to_location_type: str | None = None

    def specificity(self) -> tuple[int, int]:
        return (1 if self.to_location_type else 0, 1 if self.from_location_type else 0)


@dataclass(frozen=True)
class SafetyStock:
    """What a matched safety-stock rule asks for, in the form the Lua ledger also understands."""

    units: int = 0
    percent: float = 0.0

    def units_for(self, on_hand: int) -> int:
        if self.percent:
            # Round up: a buffer that rounds down protects nothing on small positions.
            return math.ceil(max(on_hand, 0) * self.percent / 100)
        return self.units


@dataclass(frozen=True)
class RuleSet:
    safety_stock: tuple[SafetyStockRule, ...] = ()
    allocations: tuple[AllocationRule, ...] = ()
    low_stock: tuple[LowStockRule, ...] = ()
    #: category name → SKU patterns (fnmatch), so rules can name a category.
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: channels that may sell stock still in transit (available_to_order).
    channels_selling_incoming: tuple[str, ...] = ()
    transit_times: tuple[TransitTimeRule, ...] = ()
    #: channel → the largest share of what it can sell of a SKU one cart or order may hold.
    max_hold_share: dict[str, float] = field(default_factory=dict)

    def categories_of(self, sku: str) -> frozenset[str]:
        return frozenset(
            name for name, patterns in self.categories.items() if any(fnmatch.fnmatchcase(sku, p) for p in patterns)
        )

    def safety_stock_for(self, sku: str, location: Location, channel: str | None) -> SafetyStock:
        rule = _most_specific(self.safety_stock, sku, self.categories_of(sku), location, channel)
        if rule is None:
            return SafetyStock()
        if rule.units is not None:
            return SafetyStock(units=rule.units)
        return SafetyStock(percent=rule.percent or 0.0)

    def allocations_at(
        self, sku: str, *, location: str | None = None, location_group: str | None = None, now: datetime
    ) -> dict[str, int]:
        """Units ring-fenced per channel at exactly this location (or group), active now."""
        categories = self.categories_of(sku)
        fenced: dict[str, tuple[tuple[int, int], int]] = {}
        for rule in self.allocations:
            if rule.location != location or rule.location_group != location_group:
                continue
            if not rule.active_at(now) or not rule.covers_sku(sku, categories):
                continue
            rank = (2 if rule.sku else 1 if rule.category else 0, 0)
            if rule.channel not in fenced or rank > fenced[rule.channel][0]:
                fenced[rule.channel] = (rank, rule.units)
        return {channel: units for channel, (_, units) in fenced.items()}

    def low_stock_threshold(self, sku: str, location: Location | None, channel: str | None) -> int:
        rule = _most_specific(self.low_stock, sku, self.categories_of(sku), location, channel)
        return rule.threshold if rule else 0

    def transit_time(self, from_location: Location | None, to_location: Location) -> timedelta | None:
        """The most specific transit time from one location to another (to type over from type)."""
        from_type = from_location.type if from_location else None
        matching = [
            rule
            for rule in self.transit_times
            if rule.from_location_type in (None, from_type) and rule.to_location_type in (None, to_location.type)
        ]
        best = max(matching, key=TransitTimeRule.specificity, default=None)
        return timedelta(hours=best.hours) if best else None

    def hold_share(self, channel: str, default: float) -> float:
        """The largest share of a SKU's sellable stock one cart or order of `channel` may hold."""
        return self.max_hold_share.get(channel, default)

    def sells_incoming(self, channel: str | None) -> bool:
        return channel is not None and channel in self.channels_selling_incoming


class _Selecting(Protocol):
    """A rule applying where its selector matches (safety stock, low stock)."""

    @property
    def selector(self) -> Selector: ...


_Rule = TypeVar("_Rule", bound=_Selecting)


def _most_specific(
    rules: Iterable[_Rule], sku: str, categories: frozenset[str], location: Location | None, channel: str | None
) -> _Rule | None:
    best: _Rule | None = None
    best_rank: tuple[int, int, int] | None = None
    for rule in rules:
        if not rule.selector.matches(sku, categories, location, channel):
            continue
        rank = rule.selector.specificity()
        if best_rank is None or rank > best_rank:
            best, best_rank = rule, rank
    return best


def ambiguous_transit_times(rules: tuple[TransitTimeRule, ...]) -> list[tuple[str | None, str | None]]:
    """(from, to) location types named by more than one transit-time rule."""
    pairs = [(rule.from_location_type, rule.to_location_type) for rule in rules]
    return sorted({pair for pair in pairs if pairs.count(pair) > 1}, key=str)


def ambiguous_selectors(rules: Iterable[_Selecting]) -> list[Selector]:
    """Selectors used by more than one rule of a kind: which one wins would be arbitrary."""
    seen: set[Selector] = set()
    repeated: list[Selector] = []
    for rule in rules:
        if rule.selector in seen:
            repeated.append(rule.selector)
        seen.add(rule.selector)
    return repeated
