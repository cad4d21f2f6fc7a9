"""Builders for inventory events in tests: domain objects and the JSON a system API would send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from process_apis.inventory.domain.events import EventType, InventoryEvent

#: Every test clock starts here; `at(ms)` is that many milliseconds later.
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def event(
    event_id: str,
    type: str | EventType,
    *,
    sku: str = "MAT-1",
    location: str = "S1",
    quantity: int = 1,
    ms: int = 0,
    **optional,
) -> InventoryEvent:
    """A validated domain event at `T0 + ms` milliseconds."""
    return InventoryEvent(
        event_id=event_id,
        type=EventType(type),
        sku=sku,
        location=location,
        quantity=quantity,
        occurred_at=at(ms),
        source="sap",
        **optional,
    )


def event_json(
    event_id: str,
    type: str,
    *,
    sku: str = "MAT-1",
    location: str = "S1",
    quantity=1,
    occurred_at: datetime | str | None = None,
    ms: int = 0,
    **optional,
) -> dict:
    """The canonical event as POSTed to /inventory/v1/events."""
    when = occurred_at if occurred_at is not None else at(ms)
    return {
        "event_id": event_id,
        "type": type,
        "sku": sku,
        "location": location,
        "quantity": quantity,
        "occurred_at": when if isinstance(when, str) else when.isoformat(),
        "source": "sap",
        **optional,
    }
