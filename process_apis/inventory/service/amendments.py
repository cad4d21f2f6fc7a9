"""Changing an active reservation in place: a new external reference (a cart's holds become an
order's) and/or a new expiry, taken by the header in one compare-and-set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shared.errors import Problem

from .reservations import ACTIVE, HEADER_WRITE_ATTEMPTS, Reservation, _ms, _require_status, _ttl, read

if TYPE_CHECKING:  # bootstrap imports the services it wires
    from ..bootstrap import Inventory


def extend(inventory: Inventory, reservation_id: str, ttl_seconds: int) -> Reservation:
    return amend(inventory, reservation_id, ttl_seconds=ttl_seconds)


def amend(
    inventory: Inventory, reservation_id: str, *, external_ref: str | None = None, ttl_seconds: int | None = None
) -> Reservation:
    """Re-key an active reservation and/or set its expiry to `ttl_seconds` from now.

    Every other key follows the rule of the indexes: what makes the new state findable is written
    before the header changes, what only served the old state is removed after it. So a process
    dying half-way leaves the holds answering to both references (harmless: SAP's goods issue
    names one of them) and a stale index entry (dropped when read); a retry completes the change.
    """
    prepared = None  # the reference the holds were made to answer to, before the header took it
    try:
        # Another change (a partial release, another amendment) landing between the read and the
        # write makes the write fail; each attempt reads again, so that change is never overwritten.
        for _ in range(HEADER_WRITE_ATTEMPTS):
            reservation, text = read(inventory, reservation_id)
            _require_status(reservation, ACTIVE)
            _require_unexpired(reservation)
            old_ref = reservation["external_ref"]
            if ttl_seconds is not None:
                expires_at = datetime.now(UTC) + timedelta(seconds=_ttl(inventory, ttl_seconds))
                reservation["expires_at"] = expires_at.isoformat()
            if external_ref is not None and external_ref != old_ref:
                reservation["external_ref"] = prepared = external_ref
                inventory.reservations.add_reference(reservation, external_ref)
            if inventory.reservations.transition(reservation, (ACTIVE,), unchanged_since=text)[0]:
                break
        else:
            raise Problem(
                409,
                "the reservation kept changing meanwhile; retry",
                type_slug="reservation-state",
                headers={"Retry-After": "1"},
            )
    except Problem:
        current = inventory.reservations.get(reservation_id)
        if prepared and (current is None or current["external_ref"] != prepared):
            # The header never took it: the holds stop answering to it.
            inventory.reservations.drop_reference(reservation, prepared)
        raise
    if ttl_seconds is not None:
        inventory.reservations.schedule_expiry(reservation_id, _ms(expires_at))
    if reservation["external_ref"] != old_ref:
        inventory.reservations.drop_reference(reservation, old_ref)
    return reservation


def _require_unexpired(reservation: Reservation) -> None:
    """An active reservation past its expiry is about to be released by the sweeper: it cannot be
    re-keyed or extended back to life."""
    expires_at = reservation.get("expires_at")
    if expires_at and datetime.fromisoformat(expires_at) <= datetime.now(UTC):
        raise Problem(409, f"reservation expired at {expires_at}; it is being released", type_slug="reservation-state")
