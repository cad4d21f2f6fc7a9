"""Reservations: hold stock for a channel, release, extend, fulfil, and expire on time.

A reservation spanning several SKUs is a sequence of per-SKU atomic holds. While the sequence
runs its holds are *pending*; a competitor that finds stock short only because of pending holds
(which may still roll back) waits briefly and asks again, so a refusal is a true shortage.
"""
from __future__ import annotations

import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from shared import metrics
from shared.errors import Problem

from ..domain.availability import held_for_other_channels
from .availability import candidate, consistent_read

PENDING, ACTIVE, FULFILLED, CONSUMED = "pending", "active", "fulfilled", "consumed"
RELEASED, EXPIRED, REJECTED = "released", "expired", "rejected"
TERMINAL_RETENTION_SECONDS = 7 * 86400
CONTENTION_WAIT_SECONDS = 5.0
SWEEP_LEASE_MS = 30_000

RESERVATIONS = metrics.counter("inventory_reservations_total", "Reservation requests by result", ("result",))
EXPIRED_TOTAL = metrics.counter("inventory_reservations_expired_total", "Reservations released by expiry")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ttl(inventory, ttl_seconds: int | None) -> int:
    settings = inventory.settings
    ttl = ttl_seconds or settings.reservation_default_ttl_seconds
    if ttl > settings.reservation_max_ttl_seconds:
        raise Problem(422, f"ttl_seconds may be at most {settings.reservation_max_ttl_seconds}",
                      errors={"json": {"ttl_seconds": [f"at most {settings.reservation_max_ttl_seconds}"]}})
    return ttl


def _line_request(inventory, catalogue, rules, line: dict, channel: str, allow_partial: bool, now: datetime) -> dict:
    """The Lua hold script's view of one line: candidates in sourcing order, with their rules."""
    if line["location"]:
        location = catalogue.locations.get(line["location"])
        if location is None:
            raise Problem(404, f"unknown location: {line['location']}", type_slug="unknown-location")
        if not location.serves(channel):
            raise Problem(422, f"location {location.id} does not serve channel {channel}",
                          errors={"json": {"lines": {"location": [f"does not serve {channel}"]}}})
        members, strategy, fence = [location], "priority", 0
    else:
        group = catalogue.groups.get(line["location_group"])
        if group is None:
            raise Problem(404, f"unknown location group: {line['location_group']}", type_slug="unknown-location-group")
        if group.channel and group.channel != channel:
            raise Problem(422, f"location group {group.id} is for channel {group.channel}, not {channel}",
                          errors={"json": {"lines": {"location_group": [f"not a {channel} group"]}}})
        members, strategy = catalogue.members_serving(group, channel), group.sourcing_strategy
        fences = rules.allocations_at(line["sku"], location_group=group.id, now=now)
        fence = 0
        if fences:
            reserved: dict[str, int] = defaultdict(int)
            for position in inventory.ledger.positions([(line["sku"], m.id) for m in members]):
                for ch, units in position.reserved_by_channel.items():
                    reserved[ch] += units
            fence = held_for_other_channels(fences, reserved, channel)
    return {
        "qty": line["quantity"],
        "partial": allow_partial,
        "strategy": strategy,
        "fence": fence,
        "cands": [candidate(rules, line["sku"], m, channel, now) for m in members],
    }


def _hold(inventory, sku: str, request: dict) -> dict:
    deadline = time.monotonic() + CONTENTION_WAIT_SECONDS
    pause = 0.002
    while True:
        reply = inventory.ledger.hold(sku, request)
        if reply["ok"] or not reply.get("contended") or time.monotonic() >= deadline:
            return reply
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _release_all(inventory, reservation: dict) -> None:
    for sku in reservation["skus"]:
        inventory.ledger.release(sku, reservation["id"])


def _finish(inventory, reservation: dict, status: str, from_statuses: tuple[str, ...]) -> bool:
    reservation["status"] = status
    stored, _ = inventory.reservations.transition(reservation, from_statuses)
    if stored:
        inventory.reservations.schedule_expiry(reservation["id"], None)
        inventory.reservations.retire(reservation["id"], TERMINAL_RETENTION_SECONDS)
    return stored


def create(inventory, request: dict) -> tuple[dict, list[dict]]:
    """Hold stock for every line; returns (reservation, shortfalls of partial lines)."""
    now = datetime.now(timezone.utc)
    ttl = _ttl(inventory, request.get("ttl_seconds"))
    catalogue, rules, _ = consistent_read(inventory, lambda _: [])
    channel, allow_partial = request["channel"], request["allow_partial"]
    lines = [{"location": None, "location_group": None, **line} for line in request["lines"]]
    lua_lines = [_line_request(inventory, catalogue, rules, line, channel, allow_partial, now) for line in lines]
    expires_at = now + timedelta(seconds=ttl)
    reservation = {
        "id": uuid.uuid4().hex,
        "status": PENDING,
        "channel": channel,
        "external_ref": request["external_ref"],
        "allow_partial": allow_partial,
        "created_at": now.isoformat(),
        "expires_at": expires_at.isoformat(),
        "fulfilled_at": None,
        "skus": sorted({line["sku"] for line in lines}),
        "lines": [
            {"sku": l["sku"], "location": l["location"], "location_group": l["location_group"],
             "requested": l["quantity"], "reserved": 0, "allocations": []}
            for l in lines
        ],
    }
    inventory.reservations.create(reservation, _ms(expires_at))
    try:
        shortfalls = _hold_lines(inventory, reservation, lines, lua_lines)
    except Problem:
        raise
    except Exception:
        # A failure half-way (Redis gone, a timeout) must not leave pending holds behind.
        _release_all(inventory, reservation)
        _finish(inventory, reservation, REJECTED, (PENDING,))
        raise
    reservation["status"] = ACTIVE
    stored, found = inventory.reservations.transition(reservation, (PENDING,))
    if not stored:  # the sweeper expired it while it was being made (a very short TTL)
        _release_all(inventory, reservation)
        raise Problem(409, f"reservation {found} before it was complete", type_slug="reservation-state")
    RESERVATIONS.labels("partial" if shortfalls else "reserved").inc()
    return reservation, shortfalls


def _hold_lines(inventory, reservation: dict, lines: list[dict], lua_lines: list[dict]) -> list[dict]:
    """Hold every SKU in turn (pending while there are several), then commit them all."""
    by_sku: dict[str, list[int]] = defaultdict(list)
    for index, line in enumerate(lines):
        by_sku[line["sku"]].append(index)
    pending = len(by_sku) > 1
    shortfalls: list[dict] = []
    for sku in reservation["skus"]:
        indexes = by_sku[sku]
        reply = _hold(inventory, sku, {
            "res": reservation["id"], "ch": reservation["channel"], "pending": pending,
            "refs": [reservation["id"], reservation["external_ref"]],
            "lines": [lua_lines[i] for i in indexes],
        })
        for short in reply["short"]:
            index = indexes[short["line"] - 1]
            shortfalls.append({"line": index, "sku": sku, "location": lines[index]["location"],
                               "location_group": lines[index]["location_group"],
                               "requested": short["requested"], "available": short["available"]})
        if not reply["ok"]:
            _reject(inventory, reservation, shortfalls)
        for line_no, location, quantity in reply["allocs"]:
            reserved_line = reservation["lines"][indexes[line_no - 1]]
            reserved_line["allocations"].append({"location": location, "quantity": quantity})
            reserved_line["reserved"] += quantity
    if not any(line["reserved"] for line in reservation["lines"]):
        _reject(inventory, reservation, shortfalls)
    if pending:
        for sku in reservation["skus"]:
            inventory.ledger.commit(sku, reservation["id"])
    return shortfalls


def _reject(inventory, reservation: dict, shortfalls: list[dict]):
    _release_all(inventory, reservation)
    _finish(inventory, reservation, REJECTED, (PENDING,))
    RESERVATIONS.labels("short").inc()
    raise Problem(409, "not enough stock for every line", type_slug="insufficient-stock", shortfalls=shortfalls)


def get(inventory, reservation_id: str) -> dict:
    reservation = inventory.reservations.get(reservation_id)
    if reservation is None or reservation["status"] in (PENDING, REJECTED):
        raise Problem(404, f"no reservation {reservation_id}", type_slug="unknown-reservation")
    # SAP's goods issues naming the reservation may have taken every held unit already.
    if reservation["status"] in (ACTIVE, FULFILLED) and not inventory.ledger.holds_anything(reservation["skus"], reservation_id):
        reservation["status"] = CONSUMED
    return reservation


def _require_status(reservation: dict, *allowed: str) -> None:
    if reservation["status"] not in allowed:
        raise Problem(409, f"reservation is {reservation['status']}; this needs it {' or '.join(allowed)}",
                      type_slug="reservation-state")


def release(inventory, reservation_id: str, lines: list[dict] | None) -> dict:
    reservation = get(inventory, reservation_id)
    _require_status(reservation, ACTIVE)
    if lines is None:
        _release_all(inventory, reservation)
        _finish(inventory, reservation, RELEASED, (ACTIVE,))
        return reservation
    for line in lines:
        item = [line["location"]] if line["quantity"] is None else [line["location"], line["quantity"]]
        for location, quantity in inventory.ledger.release(line["sku"], reservation_id, [item]):
            _subtract(reservation, line["sku"], location, quantity)
    if not any(line["reserved"] for line in reservation["lines"]):
        _finish(inventory, reservation, RELEASED, (ACTIVE,))
    else:
        inventory.reservations.transition(reservation, (ACTIVE,))
    return reservation


def _subtract(reservation: dict, sku: str, location: str, quantity: int) -> None:
    """Record in the header that `quantity` units of `sku` at `location` were released."""
    for line in reservation["lines"]:
        for allocation in line["allocations"] if line["sku"] == sku else ():
            take = min(quantity, allocation["quantity"]) if allocation["location"] == location else 0
            allocation["quantity"] -= take
            line["reserved"] -= take
            quantity -= take


def extend(inventory, reservation_id: str, ttl_seconds: int) -> dict:
    reservation = get(inventory, reservation_id)
    _require_status(reservation, ACTIVE)
    expires_at = datetime.now(timezone.utc) + timedelta(seconds=_ttl(inventory, ttl_seconds))
    reservation["expires_at"] = expires_at.isoformat()
    stored, found = inventory.reservations.transition(reservation, (ACTIVE,))
    if not stored:
        raise Problem(409, f"reservation is {found}; only an active one can be extended", type_slug="reservation-state")
    inventory.reservations.schedule_expiry(reservation_id, _ms(expires_at))
    return reservation


def fulfil(inventory, reservation_id: str) -> dict:
    """Stop the clock: units stay held until SAP's goods issue for this reservation arrives."""
    reservation = get(inventory, reservation_id)
    _require_status(reservation, ACTIVE)
    now = datetime.now(timezone.utc)
    reservation.update(status=FULFILLED, fulfilled_at=now.isoformat(), expires_at=None)
    stored, found = inventory.reservations.transition(reservation, (ACTIVE,))
    if not stored:
        raise Problem(409, f"reservation is {found}; only an active one can be fulfilled", type_slug="reservation-state")
    inventory.reservations.schedule_expiry(reservation_id, None)
    for sku in reservation["skus"]:
        inventory.ledger.fulfil(sku, reservation_id, _ms(now))
    return reservation


def expire_due(inventory, limit: int = 100) -> int:
    """Release every reservation whose time is up; safe to run in several workers at once."""
    expired = 0
    for reservation_id in inventory.reservations.due(_ms(datetime.now(timezone.utc)), SWEEP_LEASE_MS, limit):
        reservation = inventory.reservations.get(reservation_id)
        if reservation is None or reservation["status"] not in (PENDING, ACTIVE):
            inventory.reservations.schedule_expiry(reservation_id, None)
            continue
        _release_all(inventory, reservation)
        if _finish(inventory, reservation, EXPIRED, (PENDING, ACTIVE)):
            expired += 1
    EXPIRED_TOTAL.inc(expired)
    return expired
