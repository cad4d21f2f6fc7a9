"""Deterministic bench data: a location catalogue and realistic event batches."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from process_apis.inventory.domain.events import EventType

LOCATIONS = [f"S{n:03d}" for n in range(1, 10)] + ["DC01"]
SKUS = [f"MAT-{100000 + n}" for n in range(300)]
BATCH = 1000

# The mix a retailer's SAP sends: mostly sales/deliveries and goods receipts, some counts,
# returns, inspections, blocks and transfers. (type, weight)
MIX = (
    (EventType.ISSUED, 60),
    (EventType.RECEIVED, 25),
    (EventType.COUNTED, 5),
    (EventType.RETURNED, 3),
    (EventType.INSPECTION_PASSED, 2),
    (EventType.BLOCKED, 1),
    (EventType.UNBLOCKED, 1),
    (EventType.TRANSFER_SHIPPED, 1),
    (EventType.TRANSFER_RECEIVED, 1),
    (EventType.TRANSFER_MOVED, 1),
)


def location_body(location: str) -> dict:
    if location.startswith("DC"):
        return {
            "type": "dc",
            "name": f"DC {location}",
            "channels": ["web", "call_centre"],
            "fulfilment_methods": ["ship"],
        }
    return {
        "type": "store",
        "name": f"Store {location}",
        "channels": ["web", "store", "call_centre"],
        "fulfilment_methods": ["ship", "pickup"],
    }


class EventFactory:
    """Makes unique events with increasing `occurred_at` (a delta is never older than a count
    of its position, so the ledger really applies it instead of calling it stale)."""

    def __init__(self, seed: int, tag: str, start: datetime | None = None) -> None:
        self.random = random.Random(seed)
        self.tag = tag
        self.sequence = 0
        self.clock = start or datetime.now(UTC) - timedelta(hours=2)
        self.types = [kind for kind, _ in MIX]
        self.weights = [weight for _, weight in MIX]

    def event(self) -> dict:
        rnd = self.random
        self.sequence += 1
        self.clock += timedelta(microseconds=1000)
        kind = rnd.choices(self.types, self.weights)[0]
        location = rnd.choice(LOCATIONS)
        event = {
            "event_id": f"bench:{self.tag}:{self.sequence}",
            "type": kind.value,
            "sku": rnd.choice(SKUS),
            "location": location,
            "quantity": rnd.randint(1, 5),
            "occurred_at": self.clock.isoformat().replace("+00:00", "Z"),
            "source": "sap",
        }
        if kind is EventType.ISSUED:
            event["reason"] = rnd.choice(("sale", "sale", "sale", "delivery", "shrinkage"))
            if rnd.random() < 0.5:
                event["reference"] = f"ORDER-{rnd.randint(1, 10**7)}"
        elif kind is EventType.RECEIVED:
            event["quantity"] = rnd.randint(5, 50)
            event["reference"] = f"PO-{rnd.randint(1, 10**6)}"
        elif kind is EventType.COUNTED:
            event["quantity"] = rnd.randint(50, 500)
            # A count taken a moment before it is sent: deltas after it are re-applied.
            event["occurred_at"] = (self.clock - timedelta(milliseconds=50)).isoformat().replace("+00:00", "Z")
        elif kind in (EventType.TRANSFER_SHIPPED, EventType.TRANSFER_MOVED):
            event["to_location"] = rnd.choice([loc for loc in LOCATIONS if loc != location])
        return event

    def batch(self, size: int = BATCH) -> list[dict]:
        return [self.event() for _ in range(size)]

    def bodies(self, batches: int, size: int = BATCH) -> list[bytes]:
        return [json.dumps({"events": self.batch(size)}).encode() for _ in range(batches)]


def initial_counts(at: datetime) -> list[dict]:
    """One count per position, so every position exists before the timed phases."""
    stamp = at.isoformat().replace("+00:00", "Z")
    return [
        {
            "event_id": f"bench:init:{sku}:{loc}",
            "type": "stock.counted",
            "sku": sku,
            "location": loc,
            "quantity": 1000,
            "occurred_at": stamp,
            "source": "sap",
        }
        for sku in SKUS
        for loc in LOCATIONS
    ]
