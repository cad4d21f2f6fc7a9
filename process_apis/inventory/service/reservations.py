"""Reservations: hold stock for a channel, release, extend, fulfil, and expire on time.

A reservation spanning several SKUs is a sequence of per-SKU atomic holds. While the sequence
runs its holds are *pending*; a competitor that finds stock short only because of pending holds
(which may still roll back) waits briefly and asks again, so a refusal is a true shortage.

A reservation stays pending until its request makes it active. Should the request die half-way
(a worker killed), the reservation is abandoned past the request's deadline, the time its
Idempotency-Key stays in flight (IDEMPOTENCY_LOCK_SECONDS): by the sweeper, or at once by a retry
with that key. Its status changes first, so the request can no longer activate it, and each SKU
is fenced against it before its holds go, so the request cannot hold for it again.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, TypedDict

from shared import metrics
from shared.errors import Problem

from ..adapters.ledger import HoldReply
from ..adapters.reservation_index import held_locations
from ..domain.availability import held_for_other_channels
from ..domain.locations import Catalogue
from ..domain.rules import RuleSet
from .availability import candidate

if TYPE_CHECKING:  # bootstrap imports the services it wires
    from ..bootstrap import Inventory

PENDING, ACTIVE, FULFILLED, CONSUMED = "pending", "active", "fulfilled", "consumed"
RELEASED, EXPIRED, REJECTED = "released", "expired", "rejected"
TERMINAL_RETENTION_SECONDS = 7 * 86400
CONTENTION_WAIT_SECONDS = 5.0
SWEEP_LEASE_MS = 30_000
HEADER_WRITE_ATTEMPTS = 5

RESERVATIONS = metrics.counter("inventory_reservations_total", "Reservation requests by result", ("result",))
EXPIRED_TOTAL = metrics.counter("inventory_reservations_expired_total", "Reservations released by expiry")
REFUSALS_UNRECORDED = metrics.counter(
    "inventory_refused_reservations_unrecorded_total",
    "Refused reservations answered but not kept, their client past MAX_REFUSED_RESERVATIONS_PER_DAY",
)

#: A reservation's header: the JSON document stored and shown to clients (api/reservations_schemas.py),
#: with the SKUs it holds and each line's allocations.
Reservation = dict[str, Any]
#: A request line (sku, location or location_group, quantity), or a release line.
Line = dict[str, Any]


class Shortfall(TypedDict):
    """A line reserved short: what it asked for, and what was available."""

    line: int  # index of the line in the request
    sku: str
    location: str | None
    location_group: str | None
    requested: int
    available: int


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ttl(inventory: Inventory, ttl_seconds: int | None) -> int:
    settings = inventory.settings
    ttl = ttl_seconds or settings.reservation_default_ttl_seconds
    if ttl > settings.reservation_max_ttl_seconds:
        raise Problem(
            422,
            f"ttl_seconds may be at most {settings.reservation_max_ttl_seconds}",
            errors={"json": {"ttl_seconds": [f"at most {settings.reservation_max_ttl_seconds}"]}},
        )
    return ttl


def _line_request(
    inventory: Inventory,
    catalogue: Catalogue,
    rules: RuleSet,
    line: Line,
    channel: str,
    allow_partial: bool,
    now: datetime,
) -> dict[str, Any]:
    """The Lua hold script's view of one line: candidates in sourcing order, with their rules."""
    if line["location"]:
        location = catalogue.locations.get(line["location"])
        if location is None:
            raise Problem(404, f"unknown location: {line['location']}", type_slug="unknown-location")
        if not location.serves(channel):
            raise Problem(
                422,
                f"location {location.id} does not serve channel {channel}",
                errors={"json": {"lines": {"location": [f"does not serve {channel}"]}}},
            )
        members, strategy, fence = [location], "priority", 0
    else:
        group = catalogue.groups.get(line["location_group"])
        if group is None:
            raise Problem(404, f"unknown location group: {line['location_group']}", type_slug="unknown-location-group")
        if group.channel and group.channel != channel:
            raise Problem(
                422,
                f"location group {group.id} is for channel {group.channel}, not {channel}",
                errors={"json": {"lines": {"location_group": [f"not a {channel} group"]}}},
            )
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


def _release_all(inventory: Inventory, reservation: Reservation) -> None:
    inventory.ledger.release_all(reservation["skus"], reservation["id"])


def _finish(inventory: Inventory, reservation: Reservation, status: str, from_statuses: tuple[str, ...]) -> bool:
    reservation["status"] = status
    return inventory.reservations.finish(reservation, from_statuses, keep_seconds=TERMINAL_RETENTION_SECONDS)


def _plan(
    inventory: Inventory,
    lines: list[Line],
    channel: str,
    allow_partial: bool,
    now: datetime,
    catalogue: Catalogue,
    rules: RuleSet,
) -> list[dict[str, Any]]:
    return [_line_request(inventory, catalogue, rules, line, channel, allow_partial, now) for line in lines]


def create(
    inventory: Inventory, request: dict[str, Any], *, client: str, request_key: str | None = None
) -> tuple[Reservation, list[Shortfall]]:
    """Hold stock for every line for `client`; returns (reservation, shortfalls of partial lines).
    `request_key` (the client-scoped Idempotency-Key) lets a retry roll back what the request left
    behind."""
    now = datetime.now(UTC)
    ttl = _ttl(inventory, request.get("ttl_seconds"))
    channel, allow_partial = request["channel"], request["allow_partial"]
    lines = [{"location": None, "location_group": None, **line} for line in request["lines"]]
    # Plan with the catalogue and rules as last seen; their version checks ride along with the
    # header write, and should either have moved, the lines are planned again.
    catalogue, (_, _, rules) = inventory.catalogue.last(), inventory.rules.last()
    expected = [inventory.catalogue.cached_version, inventory.rules.cached_version]
    lua_lines = _plan(inventory, lines, channel, allow_partial, now, catalogue, rules)
    expires_at = now + timedelta(seconds=ttl)
    reservation: Reservation = {
        "id": uuid.uuid4().hex,
        "status": PENDING,
        "channel": channel,
        "external_ref": request["external_ref"],
        "created_by": request.get("created_by"),
        "note": request.get("note"),
        "allow_partial": allow_partial,
        "created_at": now.isoformat(),
        "expires_at": expires_at.isoformat(),
        "fulfilled_at": None,
        "skus": sorted({line["sku"] for line in lines}),
        "lines": [
            {
                "sku": line["sku"],
                "location": line["location"],
                "location_group": line["location_group"],
                "requested": line["quantity"],
                "reserved": 0,
                "allocations": [],
            }
            for line in lines
        ],
    }
    requests = _hold_requests(reservation, lines, lua_lines, _hold_share(inventory, rules, channel))
    if request_key:
        _take_over(inventory, request_key, reservation["id"], ttl)
    first_try: dict[str, HoldReply] | None
    versions, first_try = inventory.reservations.hold(reservation, _due_at_ms(inventory, reservation), requests)
    try:
        if versions != expected:  # the rules or the network changed meanwhile: plan again
            inventory.ledger.release_all(reservation["skus"], reservation["id"])
            catalogue, (_, _, rules) = inventory.catalogue.current(versions[0]), inventory.rules.current(versions[1])
            lua_lines = _plan(inventory, lines, channel, allow_partial, now, catalogue, rules)
            requests = _hold_requests(reservation, lines, lua_lines, _hold_share(inventory, rules, channel))
            first_try = None
        shortfalls = _hold_lines(inventory, reservation, lines, requests, first_try)
    except Problem:
        _refuse(inventory, reservation, client, now)
        raise
    except Exception:
        # A failure half-way (Redis gone, a timeout) must not leave pending holds behind.
        _release_all(inventory, reservation)
        _finish(inventory, reservation, REJECTED, (PENDING,))
        raise
    reservation["status"] = ACTIVE
    stored, found = inventory.reservations.activate(
        reservation, (PENDING,), expires_at_ms=_ms(expires_at), changed_at_ms=_ms(now)
    )
    if not stored:  # abandoned past its deadline, or expired while being made (a very short TTL)
        _release_all(inventory, reservation)
        inventory.reservation_index.remove_from_locations(reservation)
        if found == REJECTED:
            raise _abandoned(inventory)
        raise Problem(409, f"reservation {found} before it was complete", type_slug="reservation-state")
    RESERVATIONS.labels("partial" if shortfalls else "reserved").inc()
    return reservation, shortfalls


def _deadline_seconds(inventory: Inventory) -> int:
    """How long a reservation may stay pending: as long as its request's Idempotency-Key is in
    flight; once that has run out, a retry may run the request again, so this run counts as dead."""
    return inventory.settings.idempotency_lock_seconds


def _due_at_ms(inventory: Inventory, reservation: Reservation) -> int:
    """When the sweeper must look at the reservation: its expiry, or, while pending, its request's
    deadline if that comes first."""
    due = _ms(datetime.fromisoformat(reservation["expires_at"]))
    if reservation["status"] == PENDING:
        created = _ms(datetime.fromisoformat(reservation["created_at"]))
        due = min(due, created + _deadline_seconds(inventory) * 1000)
    return due


def _take_over(inventory: Inventory, request_key: str, reservation_id: str, ttl: int) -> None:
    """Make `reservation_id` the one reservation of this request: one an earlier run of it left
    pending is abandoned first. That run is past its deadline, or its key would still be in flight
    and this run would not have started; so a retry never holds the stock a second time."""
    earlier = inventory.reservations.take_over_attempt(request_key, reservation_id, keep_seconds=ttl)
    found = inventory.reservations.get(earlier) if earlier else None
    if found is not None and found["status"] == PENDING:
        _abandon(inventory, found, REJECTED)


def _abandon(inventory: Inventory, reservation: Reservation, status: str) -> bool:
    """End a reservation whose request did not make it active in time, with `status` (rejected:
    past its deadline; expired: past its TTL). True when this call ended it."""
    reservation["status"] = status
    # The status first, only while still pending: the fence that fails the request's activation,
    # should it wake up. Then the holds, each SKU fenced so it cannot hold for it again.
    if not inventory.reservations.transition(reservation, (PENDING,))[0]:
        return False
    inventory.reservations.abandon(reservation, keep_seconds=TERMINAL_RETENTION_SECONDS)
    RESERVATIONS.labels("abandoned").inc()
    return True


def _abandoned(inventory: Inventory) -> Problem:
    # Not kept under the request's Idempotency-Key: by now the key is no longer this run's (it ran
    # out, or a retry holds it), so a retry with it makes the reservation afresh.
    return Problem(
        409,
        f"the reservation was not complete within {_deadline_seconds(inventory)} s and was rolled back; "
        "nothing is held. Send the request again.",
        type_slug="reservation-abandoned",
    )


def _refuse(inventory: Inventory, reservation: Reservation, client: str, now: datetime) -> None:
    """Mark a refused reservation (nothing held) rejected. It is kept for audit while its client has
    had at most MAX_REFUSED_RESERVATIONS_PER_DAY kept this UTC day; beyond, it goes at once: a
    client never reads a rejected reservation (404), and its answer stays under its Idempotency-Key,
    so a client flooding refusals cannot fill Redis with them."""
    keep_seconds = TERMINAL_RETENTION_SECONDS
    if inventory.reservations.count_refusal(client, now.date().isoformat()) > (
        inventory.settings.max_refused_reservations_per_day
    ):
        keep_seconds = 0
        REFUSALS_UNRECORDED.inc()
    reservation["status"] = REJECTED
    inventory.reservations.finish(reservation, (PENDING,), keep_seconds=keep_seconds)


def _hold_share(inventory: Inventory, rules: RuleSet, channel: str) -> float:
    return rules.hold_share(channel, inventory.settings.max_hold_share)


def _hold_requests(
    reservation: Reservation, lines: list[Line], lua_lines: list[dict[str, Any]], share: float
) -> dict[str, dict[str, Any]]:
    """The hold script's request per SKU (pending while the reservation spans several SKUs), capped
    at `share` of what the channel sells for the reservation's cart or order (its external_ref)."""
    by_sku = _lines_by_sku(lines)
    cap = {"cap": {"ref": reservation["external_ref"], "share": share}} if share < 1 else {}
    return {
        sku: {
            "res": reservation["id"],
            "ch": reservation["channel"],
            "pending": len(by_sku) > 1,
            "refs": [reservation["id"], reservation["external_ref"]],
            "lines": [lua_lines[i] for i in by_sku[sku]],
            **cap,
        }
        for sku in reservation["skus"]
    }


def _lines_by_sku(lines: list[Line]) -> dict[str, list[int]]:
    by_sku: dict[str, list[int]] = defaultdict(list)
    for index, line in enumerate(lines):
        by_sku[line["sku"]].append(index)
    return by_sku


def _hold_lines(
    inventory: Inventory,
    reservation: Reservation,
    lines: list[Line],
    requests: dict[str, dict[str, Any]],
    replies: dict[str, HoldReply] | None,
) -> list[Shortfall]:
    """Settle the holds of every SKU (`replies`: a first try already made). Should a SKU be short
    only because of other reservations' pending holds, let go of everything and try again shortly:
    waiting while holding could deadlock two reservations that each wait for the other."""
    by_sku = _lines_by_sku(lines)
    deadline, pause = time.monotonic() + CONTENTION_WAIT_SECONDS, 0.002
    while True:
        replies = replies or inventory.ledger.hold_many(requests)
        failed = [sku for sku, reply in replies.items() if not reply["ok"]]
        if not failed:
            break
        inventory.ledger.release_all([sku for sku, reply in replies.items() if reply["ok"]], reservation["id"])
        if any(replies[sku].get("void") for sku in failed):
            raise _abandoned(inventory)
        if any(replies[sku]["capped"] for sku in failed):
            _refuse_over_share(replies, by_sku, lines, requests)
        if not any(replies[sku].get("contended") for sku in failed) or time.monotonic() >= deadline:
            _reject(_shortfalls(replies, by_sku, lines))
        time.sleep(pause * random.uniform(0.5, 1.5))
        pause, replies = min(pause * 2, 0.05), None
    for sku, reply in replies.items():
        for line_no, location, quantity in reply["allocs"]:
            reserved_line = reservation["lines"][by_sku[sku][line_no - 1]]
            reserved_line["allocations"].append({"location": location, "quantity": quantity})
            reserved_line["reserved"] += quantity
    shortfalls = _shortfalls(replies, by_sku, lines)
    if not any(line["reserved"] for line in reservation["lines"]):
        _reject(shortfalls)
    return shortfalls


def _shortfalls(replies: dict[str, HoldReply], by_sku: dict[str, list[int]], lines: list[Line]) -> list[Shortfall]:
    shortfalls: list[Shortfall] = []
    for sku, reply in replies.items():
        for short in reply["short"]:
            index = by_sku[sku][short["line"] - 1]
            shortfalls.append(
                {
                    "line": index,
                    "sku": sku,
                    "location": lines[index]["location"],
                    "location_group": lines[index]["location_group"],
                    "requested": short["requested"],
                    "available": short["available"],
                }
            )
    return sorted(shortfalls, key=lambda short: short["line"])


def _refuse_over_share(
    replies: dict[str, HoldReply], by_sku: dict[str, list[int]], lines: list[Line], requests: dict[str, dict[str, Any]]
) -> NoReturn:
    """Refuse a reservation that would take its cart or order past its share of a SKU."""
    limits = []
    for sku, reply in replies.items():
        for over in reply["capped"]:
            index = by_sku[sku][over["line"] - 1]
            where = {"location": lines[index]["location"], "location_group": lines[index]["location_group"]}
            limits.append({"line": index, "sku": sku, **where, **{k: over[k] for k in ("requested", "held", "limit")}})
    share = next(iter(requests.values()))["cap"]["share"]
    RESERVATIONS.labels("over_share").inc()
    raise Problem(
        409,
        f"one cart or order may hold at most {share:g} of what its channel can sell of a SKU there",
        type_slug="hold-share-exceeded",
        max_hold_share=share,
        limits=sorted(limits, key=lambda limit: limit["line"]),
    )


def _reject(shortfalls: list[Shortfall]) -> NoReturn:
    """Refuse the reservation; nothing is held any more (create() then marks it rejected)."""
    RESERVATIONS.labels("short").inc()
    raise Problem(409, "not enough stock for every line", type_slug="insufficient-stock", shortfalls=shortfalls)


def get(inventory: Inventory, reservation_id: str) -> Reservation:
    return read(inventory, reservation_id)[0]


def read(inventory: Inventory, reservation_id: str) -> tuple[Reservation, str]:
    """The reservation as a client sees it, and its header's stored text (to write it back only
    if nothing changed it meanwhile)."""
    text = inventory.reservations.get_text(reservation_id) or ""
    reservation = json.loads(text) if text else None
    if reservation is None or reservation["status"] in (PENDING, REJECTED):
        raise Problem(404, f"no reservation {reservation_id}", type_slug="unknown-reservation")
    # SAP's goods issues naming the reservation may have taken every held unit already.
    if reservation["status"] in (ACTIVE, FULFILLED) and not inventory.ledger.holds_anything(
        reservation["skus"], reservation_id
    ):
        reservation["status"] = CONSUMED
    return reservation, text


def _require_status(reservation: Reservation, *allowed: str) -> None:
    if reservation["status"] not in allowed:
        raise Problem(
            409,
            f"reservation is {reservation['status']}; this needs it {' or '.join(allowed)}",
            type_slug="reservation-state",
        )


def release(inventory: Inventory, reservation_id: str, lines: list[Line] | None) -> Reservation:
    reservation, text = read(inventory, reservation_id)
    _require_status(reservation, ACTIVE)
    if lines is None:
        _release_all(inventory, reservation)
        _finish(inventory, reservation, RELEASED, (ACTIVE,))
        return reservation
    released = []
    for line in lines:
        item = [line["location"]] if line["quantity"] is None else [line["location"], line["quantity"]]
        released += [
            (line["sku"], location, quantity)
            for location, quantity in inventory.ledger.release(line["sku"], reservation_id, [item])
        ]
    # The units are released; the header records it unless another change (e.g. a re-key) landed
    # since it was read: then it is read again, so that change is kept too.
    for attempt in range(HEADER_WRITE_ATTEMPTS):
        held_before = held_locations(reservation)
        for sku, location, quantity in released:
            _subtract(reservation, sku, location, quantity)
        if not any(line["reserved"] for line in reservation["lines"]):
            _finish(inventory, reservation, RELEASED, (ACTIVE,))
            return reservation
        last = attempt == HEADER_WRITE_ATTEMPTS - 1  # then the status guard alone: never unrecorded
        if inventory.reservations.transition(reservation, (ACTIVE,), unchanged_since=None if last else text)[0]:
            emptied = sorted(set(held_before) - set(held_locations(reservation)))
            inventory.reservation_index.remove_from_locations(reservation, emptied)
            return reservation
        reservation, text = read(inventory, reservation_id)
        if reservation["status"] != ACTIVE:
            return reservation  # it ended meanwhile, and its holds with it
    return reservation


def _subtract(reservation: Reservation, sku: str, location: str, quantity: int) -> None:
    """Record in the header that `quantity` units of `sku` at `location` were released."""
    for line in reservation["lines"]:
        for allocation in line["allocations"] if line["sku"] == sku else ():
            take = min(quantity, allocation["quantity"]) if allocation["location"] == location else 0
            allocation["quantity"] -= take
            line["reserved"] -= take
            quantity -= take


def fulfil(inventory: Inventory, reservation_id: str) -> Reservation:
    """Stop the clock: units stay held until SAP's goods issue for this reservation arrives."""
    for attempt in range(HEADER_WRITE_ATTEMPTS):
        reservation, text = read(inventory, reservation_id)
        _require_status(reservation, ACTIVE)
        now = datetime.now(UTC)
        reservation.update(status=FULFILLED, fulfilled_at=now.isoformat(), expires_at=None)
        # Guarded by the text read, so a concurrent re-key is kept (see amendments.py); the last
        # attempt by the status alone, as every other status change.
        last = attempt == HEADER_WRITE_ATTEMPTS - 1
        stored, found = inventory.reservations.transition(
            reservation, (ACTIVE,), unchanged_since=None if last else text
        )
        if stored:
            break
    if not stored:
        raise Problem(
            409, f"reservation is {found}; only an active one can be fulfilled", type_slug="reservation-state"
        )
    inventory.reservations.schedule_expiry(reservation_id, None)
    for sku in reservation["skus"]:
        inventory.ledger.fulfil(sku, reservation_id, _ms(now))
    # Fulfilled is no pickup any more: out of the location indexes (after, as every removal).
    inventory.reservation_index.remove_from_locations(reservation)
    return reservation


def expire_due(inventory: Inventory, limit: int = 100) -> int:
    """End every reservation whose time is up: an active one past its expiry is released, a
    pending one past its request's deadline (or its expiry) abandoned. Returns how many ended;
    safe to run in several workers at once."""
    ended = expired = 0
    now = datetime.now(UTC)
    for reservation_id in inventory.reservations.due(_ms(now), SWEEP_LEASE_MS, limit):
        reservation = inventory.reservations.get(reservation_id)
        status = reservation["status"] if reservation else None
        if reservation is not None and status in (REJECTED, EXPIRED, RELEASED):
            # Ended, but still scheduled: a sweep stopped between its status and its holds.
            _release_all(inventory, reservation)
        if reservation is None or status not in (PENDING, ACTIVE):
            inventory.reservations.schedule_expiry(reservation_id, None)
            continue
        due = _due_at_ms(inventory, reservation)
        if due > _ms(now):
            # The header is the truth: an extension moves it before the schedule, so a schedule
            # left behind (by a crash, or a sweep racing the extension) is only corrected here.
            inventory.reservations.schedule_expiry(reservation_id, due)
            continue
        past_expiry = _ms(datetime.fromisoformat(reservation["expires_at"])) <= _ms(now)
        if status == PENDING:
            ended += _abandon(inventory, reservation, EXPIRED if past_expiry else REJECTED)
            continue
        _release_all(inventory, reservation)
        if _finish(inventory, reservation, EXPIRED, (ACTIVE,)):
            expired += 1
    EXPIRED_TOTAL.inc(expired)
    return ended + expired
