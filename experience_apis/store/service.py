"""What the store experience API does for one store: its full position of a SKU, what nearby
stores could sell, customer returns and quality inspections as canonical events, and the pickups
to prepare. Object-level authorisation (which store a credential may act for) is the routes' job."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import cast

from experience_apis.geo import distance_km
from process_apis.inventory.contract import InventoryClient
from shared.errors import Problem

logger = logging.getLogger(__name__)

CHANNEL = "store"
STORE_TYPE = "store"
#: The `source` of the canonical events this API sends.
SOURCE = "store"
RETURNED, PASSED, FAILED = "stock.returned", "inspection.passed", "inspection.failed"
#: Outcomes of an event the process API accounted for without dead-lettering it.
COUNTED = ("applied", "duplicate", "stale")


def store(inventory: InventoryClient, store_id: str) -> dict:
    """The store's location record; 404 (unknown-store) for an unknown id or a location that is no store."""
    try:
        location = inventory.location(store_id)
    except Problem as problem:
        if problem.status != 404:
            raise
        location = None
    if location is None or location.get("type") != STORE_TYPE:
        raise Problem(404, f"no store {store_id}", type_slug="unknown-store")
    return location


def position(inventory: InventoryClient, *, store_id: str, sku: str) -> dict:
    store(inventory, store_id)
    answer = inventory.availability(skus=[sku], locations=[store_id], channel=CHANNEL, include="incoming")
    held = answer["positions"][0]
    return {
        "store_id": store_id,
        "sku": sku,
        "as_of": answer["as_of"],
        "on_hand": held["on_hand"],
        "sellable": held["available_to_sell"],
        "reserved_for_pickups": held["reserved"],
        "in_inspection": held["quality_inspection"],
        "blocked": held["blocked"],
        "safety_stock": held["safety_stock"],
        "allocated_to_other_channels": held["allocated"],
        "in_transit": held["in_transit"],
        "incoming": held["incoming"],
        "status": held["status"],
    }


def nearby(inventory: InventoryClient, *, store_id: str, sku: str, limit: int) -> dict:
    """The `limit` stores nearest to this one that sell to store customers, with what each could
    sell of `sku`; nothing else of theirs. Stores without coordinates come last."""
    locations = inventory.locations()
    here = next((loc for loc in locations if loc["id"] == store_id and loc["type"] == STORE_TYPE), None)
    if here is None:
        raise Problem(404, f"no store {store_id}", type_slug="unknown-store")
    others = [
        {"store_id": loc["id"], "name": loc.get("name") or "", "distance_km": _distance(here, loc)}
        for loc in locations
        if loc["type"] == STORE_TYPE and CHANNEL in loc.get("channels", ()) and loc["id"] != store_id
    ]
    nearest = sorted(
        others, key=lambda other: (other["distance_km"] is None, other["distance_km"] or 0, other["store_id"])
    )[:limit]
    answer = inventory.availability(skus=[sku], locations=[other["store_id"] for other in nearest], channel=CHANNEL)
    sellable = {held["location"]: held["available_to_sell"] for held in answer["positions"]}
    return {
        "store_id": store_id,
        "sku": sku,
        "as_of": answer["as_of"],
        "stores": [{**other, "sellable": sellable.get(other["store_id"], 0)} for other in nearest],
    }


def _distance(here: dict, there: dict) -> float | None:
    points = [(place.get("latitude"), place.get("longitude")) for place in (here, there)]
    if any(value is None for point in points for value in point):
        return None
    return round(distance_km(*cast(list[tuple[float, float]], points)), 1)  # no None: checked above


def record_return(inventory: InventoryClient, *, store_id: str, scan: dict) -> tuple[dict, bool]:
    """A scanned customer return: its units into quality inspection (stock.returned). Returns the
    answer and whether it was applied now (False: this return id was counted before)."""
    store(inventory, store_id)
    event_id = f"store:{store_id}:return:{scan['return_id']}"
    outcome = _send(inventory, event_id, RETURNED, store_id, scan["sku"], scan["quantity"], scan["return_id"])
    if scan["reason"]:
        # stock.returned carries no customer reason; the log keeps it beside the event id.
        logger.info(
            "customer return", extra={"event_id": event_id, "return_reason": scan["reason"], "outcome": outcome}
        )
    answer = {
        "store_id": store_id,
        "event_id": event_id,
        "type": RETURNED,
        "outcome": outcome,
        "sku": scan["sku"],
        "quantity": scan["quantity"],
        "return_id": scan["return_id"],
        "reason": scan["reason"],
    }
    return answer, outcome == "applied"


def record_inspection(inventory: InventoryClient, *, store_id: str, inspection: dict) -> tuple[dict, bool]:
    """An inspection's verdict on units in quality inspection: pass → on hand (sellable),
    fail → blocked. One inspection id has one verdict: a repeat, whatever its outcome, counts once."""
    store(inventory, store_id)
    event_id = f"store:{store_id}:inspection:{inspection['inspection_id']}"
    kind = PASSED if inspection["outcome"] == "pass" else FAILED
    outcome = _send(
        inventory, event_id, kind, store_id, inspection["sku"], inspection["quantity"], inspection["inspection_id"]
    )
    answer = {
        "store_id": store_id,
        "event_id": event_id,
        "type": kind,
        "outcome": outcome,
        "sku": inspection["sku"],
        "quantity": inspection["quantity"],
        "inspection_id": inspection["inspection_id"],
        "inspection_outcome": inspection["outcome"],
    }
    return answer, outcome == "applied"


def _send(
    inventory: InventoryClient, event_id: str, kind: str, store_id: str, sku: str, quantity: int, reference: str
) -> str:
    """Send one canonical event; its outcome (applied, duplicate or stale). The event id makes a
    repeat count once; the Idempotency-Key (event id plus a digest of this body, occurred_at
    included) only lets the tier client retry this very request safely."""
    event = {
        "event_id": event_id,
        "type": kind,
        "sku": sku,
        "location": store_id,
        "quantity": quantity,
        "occurred_at": datetime.now(UTC).isoformat(),
        "source": SOURCE,
        "reference": reference,
    }
    total = inventory.send_events([event], key_prefix=event_id)
    for outcome in COUNTED:
        if total[outcome]:
            return outcome
    refused = (total["not_applied"] or [{}])[0]
    raise Problem(
        422,
        f"the inventory process API could not apply {kind} {event_id}: {refused.get('reason', 'unknown reason')}",
        type_slug="event-not-applied",
        reason=refused.get("reason"),
        dead_letter_id=refused.get("dead_letter_id"),
    )


def pickups(inventory: InventoryClient, *, store_id: str, after: str | None, limit: int) -> dict:
    """Active reservations holding stock at this store, newest first, each with only what is held here."""
    store(inventory, store_id)
    page = inventory.reservations(location=store_id, status="active", after=after, limit=limit)
    return {
        "store_id": store_id,
        "next": page.get("next"),
        "items": [_pickup(reservation, store_id) for reservation in page["items"]],
    }


def _pickup(reservation: dict, store_id: str) -> dict:
    held: dict[str, int] = {}
    for line in reservation["lines"]:
        for allocation in line["allocations"]:
            if allocation["location"] == store_id and allocation["quantity"]:
                held[line["sku"]] = held.get(line["sku"], 0) + allocation["quantity"]
    return {
        "reservation_id": reservation["id"],
        "channel": reservation["channel"],
        "external_ref": reservation["external_ref"],
        "created_at": reservation["created_at"],
        "expires_at": reservation.get("expires_at"),
        "note": reservation.get("note"),
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in held.items()],
    }
