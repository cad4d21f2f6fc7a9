"""Incoming stock: which shipments a position's in_transit is made of, and when each should arrive.

The ledger keeps in_transit by the ordering rules (deltas, counts, watermarks) and, beside it,
the shipments sent towards the position. What is still on its way is taken to be the newest
shipments: receipts take the oldest first. Covering in_transit with the newest shipments gives
exactly that, whatever order the events came in and whatever a count of in_transit reset; units
no shipment explains (a count higher than the shipments on record) are listed without an origin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Shipment:
    """A transfer.shipped towards a position, as the ledger keeps it."""

    event_id: str
    quantity: int
    shipped_at_ms: int
    from_location: str
    reference: str | None = None
    expected_at_ms: int | None = None  # when the source said; else the rules' transit time


@dataclass(frozen=True)
class Incoming:
    """Units on their way to a position, with when they should arrive (None: no one knows)."""

    quantity: int
    expected_at: datetime | None
    from_location: str | None
    reference: str | None


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def incoming(
    shipments: list[Shipment], in_transit: int, transit_time: Callable[[str], timedelta | None]
) -> list[Incoming]:
    """The shipments still on their way to a position holding `in_transit`, soonest expected first.

    `transit_time(from_location)` is the rules' transit time from there to this position."""
    remaining = max(in_transit, 0)
    on_the_way = []
    for shipment in sorted(shipments, key=lambda s: (s.shipped_at_ms, s.event_id), reverse=True):
        if remaining == 0:
            break
        quantity = min(shipment.quantity, remaining)
        remaining -= quantity
        expected: datetime | None
        if shipment.expected_at_ms is not None:
            expected = _instant(shipment.expected_at_ms)
        else:
            duration = transit_time(shipment.from_location)
            expected = _instant(shipment.shipped_at_ms) + duration if duration is not None else None
        on_the_way.append(Incoming(quantity, expected, shipment.from_location, shipment.reference))
    if remaining:
        on_the_way.append(Incoming(remaining, None, None, None))
    unknown = datetime.max.replace(tzinfo=UTC)
    return sorted(on_the_way, key=lambda item: item.expected_at or unknown)
