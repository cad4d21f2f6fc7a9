"""The demo data set: a small retail network with stock, rules and groups, so `make run` has something to show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from process_apis.inventory.bootstrap import Inventory
from process_apis.inventory.domain.locations import Location, LocationGroup
from process_apis.inventory.service.ingest import ingest

LOCATIONS = (
    Location("DC01", "dc", "Central DC Kassel", "DE-HE", "34117", 51.31, 9.49, ("web", "call_centre"), ("ship",)),
    Location(
        "S001",
        "store",
        "Berlin Mitte",
        "DE-BE",
        "10115",
        52.53,
        13.38,
        ("web", "store", "call_centre"),
        ("ship", "pickup"),
    ),
    Location(
        "S002",
        "store",
        "Berlin Kreuzberg",
        "DE-BE",
        "10997",
        52.50,
        13.42,
        ("web", "store", "call_centre"),
        ("pickup",),
    ),
    Location(
        "S003",
        "store",
        "Hamburg Altona",
        "DE-HH",
        "22765",
        53.55,
        9.93,
        ("web", "store", "call_centre"),
        ("ship", "pickup"),
    ),
)
GROUPS = (
    LocationGroup("WEB-SHIP", ("DC01", "S001", "S003"), "web", "priority", "ship", "Web ship-to-home network"),
    LocationGroup("BERLIN-PICKUP", ("S001", "S002"), "web", "most_available", "pickup", "Berlin click & collect"),
)
SKUS = tuple(f"MAT-{1000 + n}" for n in range(1, 21))
RULES = {
    "safety_stock": [{"units": 1}, {"location_type": "dc", "percent": 5}],
    "allocations": [{"channel": "store", "location": "S001", "units": 2}],
    "low_stock": [{"threshold": 3}],
    "categories": {},
    "channels_selling_incoming": ["web", "call_centre"],
    # One web cart or order holds at most half of what the web can sell of a product there.
    "max_hold_share": {"web": 0.5},
}


def demo_events(now: datetime) -> list[dict]:
    counted_at = (now - timedelta(hours=1)).isoformat()
    events = []
    for n, sku in enumerate(SKUS):
        for location in LOCATIONS:
            quantity = (n * 7 + len(location.id) * 3 + (40 if location.type == "dc" else 0)) % 45
            events.append(
                {
                    "event_id": f"demo:count:{sku}:{location.id}",
                    "type": "stock.counted",
                    "sku": sku,
                    "location": location.id,
                    "quantity": quantity,
                    "occurred_at": counted_at,
                    "source": "demo",
                }
            )
    events.append(
        {
            "event_id": "demo:ship:1",
            "type": "transfer.shipped",
            "sku": SKUS[0],
            "location": "DC01",
            "to_location": "S002",
            "quantity": 5,
            "occurred_at": now.isoformat(),
            "source": "demo",
        }
    )
    return events


def load(inventory: Inventory, *, with_stock: bool = True) -> dict:
    """Idempotent: loading twice changes nothing (events dedup on their ids). Without stock, only
    the network and the rules are loaded: `serve --demo` takes its stock from the SAP simulator."""
    for location in LOCATIONS:
        inventory.catalogue.put_location(location)
    for group in GROUPS:
        inventory.catalogue.put_group(group)
    version, _ = inventory.rules.current()[:2]
    if version == 0:
        inventory.rules.replace(RULES, 0)
    if not with_stock:
        return {"received": 0, "applied": 0, "duplicate": 0, "stale": 0, "dead_lettered": 0, "not_applied": []}
    return ingest(inventory, demo_events(datetime.now(UTC)))
