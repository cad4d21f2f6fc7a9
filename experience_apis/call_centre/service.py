"""What the call-centre experience API does: network-wide availability with ETAs, and holds made,
read, released and extended on a customer's or an order's behalf. A call-centre client sees only
reservations of its own channel: any other (a web cart's hold) is "not found" to it."""

from __future__ import annotations

import hashlib
from typing import overload

from process_apis.inventory.contract import InventoryClient
from shared.errors import Problem

CHANNEL = "call_centre"
#: The process API's longest Idempotency-Key.
MAX_KEY_LENGTH = 255


# -- availability ----------------------------------------------------------------------------
def availability(inventory: InventoryClient, *, skus: list[str]) -> dict:
    """Per SKU: every location serving the call centre, with what it may sell and what is on its
    way (ETAs), and the network's totals."""
    skus = list(dict.fromkeys(skus))
    network = sorted(
        (loc for loc in inventory.locations() if CHANNEL in loc.get("channels", ())), key=lambda loc: loc["id"]
    )
    answer = inventory.availability(
        skus=skus, locations=[loc["id"] for loc in network], channel=CHANNEL, include="incoming"
    )
    held = {(position["sku"], position["location"]): position for position in answer["positions"]}
    return {"as_of": answer["as_of"], "skus": [_sku(sku, network, held) for sku in skus]}


def _sku(sku: str, network: list[dict], held: dict) -> dict:
    locations = []
    for location in network:
        position = held.get((sku, location["id"]))
        if position is None:
            continue
        locations.append(
            {
                "location": location["id"],
                "name": location.get("name") or "",
                "type": location["type"],
                "available_to_sell": position["available_to_sell"],
                "available_to_order": position["available_to_order"],
                "in_transit": position["in_transit"],
                "status": position["status"],
                "incoming": position["incoming"],
            }
        )
    etas = [item["expected_at"] for location in locations for item in location["incoming"] if item["expected_at"]]
    total = {
        name: sum(location[name] for location in locations)
        for name in ("available_to_sell", "available_to_order", "in_transit")
    }
    # ISO 8601 instants in UTC from one source: their text sorts as their time does.
    return {"sku": sku, "total": {**total, "next_expected_at": min(etas, default=None)}, "locations": locations}


# -- reservations ----------------------------------------------------------------------------
@overload
def scoped_key(client_id: str, key: str) -> str: ...
@overload
def scoped_key(client_id: str, key: None) -> None: ...
def scoped_key(client_id: str, key: str | None) -> str | None:
    """The client's Idempotency-Key as passed to the process API, scoped to this client so that two
    clients' equal keys never meet (every tier calls the process API with one service key); None
    for none (a release or an extension may go without)."""
    if key is None:
        return None
    scoped = f"cc:{client_id}:{key}"
    if len(scoped) <= MAX_KEY_LENGTH:
        return scoped
    return f"cc:{client_id}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def reserve(
    inventory: InventoryClient, *, request: dict, client_id: str, idempotency_key: str, default_ttl_seconds: int
) -> tuple[dict, bool]:
    """Hold every line for the customer or order, all or nothing (409 with per-line `shortfalls`
    otherwise), recording the agent. Returns the reservation and whether it is a replay."""
    body = {
        "channel": CHANNEL,
        "external_ref": request["external_ref"],
        "ttl_seconds": request["ttl_seconds"] or default_ttl_seconds,
        "allow_partial": False,
        "created_by": request["agent_id"],
        "lines": [{"sku": line["sku"], **_place(line), "quantity": line["quantity"]} for line in request["lines"]],
    }
    if request["note"] is not None:
        body["note"] = request["note"]
    reservation, replayed = inventory.reserve_with_replay(body, idempotency_key=scoped_key(client_id, idempotency_key))
    return view(reservation), replayed


def _place(line: dict) -> dict:
    if line["location"] is not None:
        return {"location": line["location"]}
    return {"location_group": line["location_group"]}


def _own(inventory: InventoryClient, reservation_id: str) -> dict:
    """The reservation when it is the call centre's; else the same 404 as for no reservation at all,
    so another channel's ids cannot even be confirmed."""
    reservation = inventory.reservation(reservation_id)
    if reservation.get("channel") != CHANNEL:
        raise Problem(404, f"no reservation {reservation_id}", type_slug="unknown-reservation")
    return reservation


def get(inventory: InventoryClient, *, reservation_id: str) -> dict:
    return view(_own(inventory, reservation_id))


def release(
    inventory: InventoryClient,
    *,
    reservation_id: str,
    lines: list[dict] | None,
    client_id: str,
    idempotency_key: str | None,
) -> dict:
    """Release every unit (no lines) or the given units of the given lines."""
    _own(inventory, reservation_id)
    released = inventory.release(
        reservation_id,
        [{name: value for name, value in line.items() if value is not None} for line in lines or []],
        idempotency_key=scoped_key(client_id, idempotency_key),
    )
    return view(released)


def extend(
    inventory: InventoryClient, *, reservation_id: str, ttl_seconds: int, client_id: str, idempotency_key: str | None
) -> dict:
    """The reservation now expires `ttl_seconds` from now."""
    _own(inventory, reservation_id)
    return view(inventory.extend(reservation_id, ttl_seconds, idempotency_key=scoped_key(client_id, idempotency_key)))


def look_up(
    inventory: InventoryClient, *, external_ref: str, status: str | None, after: str | None, limit: int
) -> dict:
    """The call centre's reservations with this reference, newest first, a page at a time."""
    page = inventory.reservations(external_ref=external_ref, channel=CHANNEL, status=status, after=after, limit=limit)
    return {
        "items": [view(reservation) for reservation in page["items"] if reservation.get("channel") == CHANNEL],
        "next": page.get("next"),
    }


def view(reservation: dict) -> dict:
    """A reservation as an agent sees it: the process API's, with created_by named agent_id."""
    return {
        "id": reservation["id"],
        "status": reservation["status"],
        "external_ref": reservation["external_ref"],
        "agent_id": reservation.get("created_by"),
        "note": reservation.get("note"),
        "created_at": reservation["created_at"],
        "expires_at": reservation.get("expires_at"),
        "fulfilled_at": reservation.get("fulfilled_at"),
        "lines": reservation["lines"],
    }
