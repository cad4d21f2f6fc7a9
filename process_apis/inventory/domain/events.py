"""Canonical inventory events and what each one does to positions, kept as data.

The effect table is the single place that says which stock field an event moves; the Lua
ledger only ever sees the resulting field changes, so a new event type is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

ON_HAND = "on_hand"
QUALITY_INSPECTION = "quality_inspection"
BLOCKED = "blocked"
IN_TRANSIT = "in_transit"
STOCK_FIELDS = (ON_HAND, QUALITY_INSPECTION, BLOCKED, IN_TRANSIT)

#: The stock type a received/issued event may name, mapped to the position field it moves.
#: "in_transit" lets a source undo a transfer leg (e.g. SAP reversing a receipt from transit).
STOCK_TYPES = {
    "unrestricted": ON_HAND,
    "quality_inspection": QUALITY_INSPECTION,
    "blocked": BLOCKED,
    "in_transit": IN_TRANSIT,
}

ISSUE_REASONS = ("sale", "delivery", "scrap", "vendor_return", "shrinkage", "consumption")


class EventType(StrEnum):
    RECEIVED = "stock.received"
    ISSUED = "stock.issued"
    RETURNED = "stock.returned"
    INSPECTION_PASSED = "inspection.passed"
    INSPECTION_FAILED = "inspection.failed"
    BLOCKED = "stock.blocked"
    UNBLOCKED = "stock.unblocked"
    TRANSFER_SHIPPED = "transfer.shipped"
    TRANSFER_RECEIVED = "transfer.received"
    TRANSFER_MOVED = "transfer.moved"
    COUNTED = "stock.counted"


# Each row: (which location, which field, sign). "from" is the event's location, "to" its
# to_location; "stock_type" means the field named by the event's stock_type (default on_hand).
_EFFECTS: dict[EventType, tuple[tuple[str, str, int], ...]] = {
    EventType.RECEIVED: (("from", "stock_type", +1),),
    EventType.ISSUED: (("from", "stock_type", -1),),
    EventType.RETURNED: (("from", QUALITY_INSPECTION, +1),),
    EventType.INSPECTION_PASSED: (("from", QUALITY_INSPECTION, -1), ("from", ON_HAND, +1)),
    EventType.INSPECTION_FAILED: (("from", QUALITY_INSPECTION, -1), ("from", BLOCKED, +1)),
    EventType.BLOCKED: (("from", ON_HAND, -1), ("from", BLOCKED, +1)),
    EventType.UNBLOCKED: (("from", BLOCKED, -1), ("from", ON_HAND, +1)),
    EventType.TRANSFER_SHIPPED: (("from", ON_HAND, -1), ("to", IN_TRANSIT, +1)),
    EventType.TRANSFER_RECEIVED: (("from", IN_TRANSIT, -1), ("from", ON_HAND, +1)),
    EventType.TRANSFER_MOVED: (("from", ON_HAND, -1), ("to", ON_HAND, +1)),
}

TRANSFER_TYPES = frozenset({EventType.TRANSFER_SHIPPED, EventType.TRANSFER_MOVED})


@dataclass(frozen=True, slots=True)
class InventoryEvent:
    """One canonical event as accepted by the process API (already validated)."""

    event_id: str
    type: EventType
    sku: str
    location: str
    quantity: int
    occurred_at: datetime
    source: str
    to_location: str | None = None
    reference: str | None = None
    reason: str | None = None
    stock_type: str | None = None
    #: stock.counted only: absolute counts of the other stock types, when the source knows them.
    counts: dict[str, int] = field(default_factory=dict)
    #: transfer.shipped only: when the shipment should arrive, when the source knows it.
    expected_at: datetime | None = None

    @property
    def occurred_at_ms(self) -> int:
        return int(self.occurred_at.timestamp() * 1000)

    @property
    def is_snapshot(self) -> bool:
        return self.type is EventType.COUNTED

    def locations(self) -> tuple[str, ...]:
        return (self.location, self.to_location) if self.to_location else (self.location,)


@dataclass(frozen=True, slots=True)
class FieldChange:
    location: str
    field: str
    amount: int


def field_changes(event: InventoryEvent) -> tuple[FieldChange, ...]:
    """The signed field changes a delta event makes (empty for a snapshot)."""
    if event.is_snapshot:
        return ()
    changes = []
    for role, target, sign in _EFFECTS[event.type]:
        # A transfer, the only event with a "to" effect, always names its to_location (validated).
        location = event.location if role == "from" else cast(str, event.to_location)
        if target == "stock_type":
            target = STOCK_TYPES[event.stock_type or "unrestricted"]
        changes.append(FieldChange(location, target, sign * event.quantity))
    return tuple(changes)


def snapshot_counts(event: InventoryEvent) -> dict[str, int]:
    """The absolute counts a stock.counted event states: on_hand plus any other stock types."""
    return {ON_HAND: event.quantity, **event.counts}


def event_record(event: InventoryEvent) -> dict[str, Any]:
    """The event as plain JSON-able data: the form kept in the log and the dead-letter queue."""
    record = {
        "event_id": event.event_id,
        "type": str(event.type),
        "sku": event.sku,
        "location": event.location,
        "quantity": event.quantity,
        "occurred_at": event.occurred_at.isoformat(),
        "source": event.source,
    }
    optional = {
        "to_location": event.to_location,
        "reference": event.reference,
        "reason": event.reason,
        "stock_type": event.stock_type,
        "counts": event.counts or None,
        "expected_at": event.expected_at.isoformat() if event.expected_at else None,
    }
    record.update({name: value for name, value in optional.items() if value is not None})
    return record


def event_from_record(record: dict[str, Any]) -> InventoryEvent:
    return InventoryEvent(
        event_id=record["event_id"],
        type=EventType(record["type"]),
        sku=record["sku"],
        location=record["location"],
        quantity=record["quantity"],
        occurred_at=datetime.fromisoformat(record["occurred_at"]),
        source=record["source"],
        to_location=record.get("to_location"),
        reference=record.get("reference"),
        reason=record.get("reason"),
        stock_type=record.get("stock_type"),
        counts=record.get("counts") or {},
        expected_at=datetime.fromisoformat(record["expected_at"]) if record.get("expected_at") else None,
    )
