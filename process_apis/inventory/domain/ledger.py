"""The ledger model: positions and the ordering rule that makes arrival order irrelevant.

Deltas commute, snapshots do not. Each stock field of a position keeps a watermark: the
time (and event id, to break ties) of the newest snapshot of that field. A delta at or before
the watermark is already inside the snapshot and is skipped; a newer snapshot sets the field to
its count plus the deltas journalled after it. The Lua ledger implements exactly this model;
the model is the reference its tests compare against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .events import STOCK_FIELDS, InventoryEvent, field_changes, snapshot_counts


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    DEAD_LETTERED = "dead_lettered"


@dataclass
class Position:
    """One SKU at one location, in whole base units."""

    sku: str
    location: str
    on_hand: int = 0
    quality_inspection: int = 0
    blocked: int = 0
    in_transit: int = 0
    reserved: int = 0
    reserved_by_channel: dict[str, int] = field(default_factory=dict)

    @property
    def negative(self) -> bool:
        return self.on_hand < 0

    def quantities(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in (*STOCK_FIELDS, "reserved")}


@dataclass
class _Watermark:
    at_ms: int = -1
    event_id: str = ""

    def covers(self, at_ms: int) -> bool:
        return at_ms <= self.at_ms

    def superseded_by(self, at_ms: int, event_id: str) -> bool:
        return (at_ms, event_id) > (self.at_ms, self.event_id)


@dataclass
class _Tracked:
    position: Position
    watermarks: dict[str, _Watermark] = field(default_factory=dict)
    journal: list[tuple[int, str, int]] = field(default_factory=list)  # (at_ms, field, amount)

    def watermark(self, name: str) -> _Watermark:
        return self.watermarks.setdefault(name, _Watermark())


class Ledger:
    """In-memory ledger with the same semantics as the Redis one (no journal bound)."""

    def __init__(self) -> None:
        self._positions: dict[tuple[str, str], _Tracked] = {}
        self._seen: set[str] = set()

    def position(self, sku: str, location: str) -> Position:
        return self._tracked(sku, location).position

    def positions(self) -> dict[tuple[str, str], Position]:
        return {key: tracked.position for key, tracked in self._positions.items()}

    def apply(self, event: InventoryEvent) -> Outcome:
        if event.event_id in self._seen:
            return Outcome.DUPLICATE
        self._seen.add(event.event_id)
        if event.is_snapshot:
            return self._apply_snapshot(event)
        return self._apply_delta(event)

    def _tracked(self, sku: str, location: str) -> _Tracked:
        key = (sku, location)
        if key not in self._positions:
            self._positions[key] = _Tracked(Position(sku, location))
        return self._positions[key]

    def _apply_delta(self, event: InventoryEvent) -> Outcome:
        at_ms = event.occurred_at_ms
        applied = False
        for change in field_changes(event):
            tracked = self._tracked(event.sku, change.location)
            if tracked.watermark(change.field).covers(at_ms):
                continue
            position = tracked.position
            setattr(position, change.field, getattr(position, change.field) + change.amount)
            tracked.journal.append((at_ms, change.field, change.amount))
            applied = True
        return Outcome.APPLIED if applied else Outcome.STALE

    def _apply_snapshot(self, event: InventoryEvent) -> Outcome:
        at_ms = event.occurred_at_ms
        tracked = self._tracked(event.sku, event.location)
        applied = False
        for name, count in snapshot_counts(event).items():
            watermark = tracked.watermark(name)
            if not watermark.superseded_by(at_ms, event.event_id):
                continue
            later = sum(amount for t, f, amount in tracked.journal if f == name and t > at_ms)
            setattr(tracked.position, name, count + later)
            watermark.at_ms, watermark.event_id = at_ms, event.event_id
            applied = True
        return Outcome.APPLIED if applied else Outcome.STALE
