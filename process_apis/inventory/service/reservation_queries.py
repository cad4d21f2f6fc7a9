"""Reservation look-ups: every reservation with an external reference (the call centre), and the
active reservations holding stock at a location (a store's pickups); newest first, a cursor page
at a time, from the indexes checked against the reservations and their holds."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Literal

from ..adapters.reservation_index import reservation_id
from .reservations import ACTIVE, CONSUMED, EXPIRED, FULFILLED, PENDING, RELEASED, Reservation

if TYPE_CHECKING:  # bootstrap imports the services it wires
    from ..bootstrap import Inventory

#: Index batches read for one page at most: stale entries are dropped as they are met, so a page
#: comes back short (with its cursor) only after a burst of them.
MAX_BATCHES = 5


class _Stale(Enum):
    STALE = "stale"


_STALE = _Stale.STALE
#: What a page makes of one index entry: the reservation to list, None to skip it, or _STALE to
#: drop the entry from the index.
Verdict = Reservation | None | Literal[_Stale.STALE]
_STORED_STATUSES = (PENDING, ACTIVE, FULFILLED, RELEASED, EXPIRED)  # not rejected: never indexed


def by_external_ref(
    inventory: Inventory, *, external_ref: str, channel: str | None, status: str | None, after: str | None, limit: int
) -> tuple[list[Reservation], str | None]:
    def listed(docs: list[Reservation | None]) -> list[Verdict]:
        holding = _holds(inventory, [doc for doc in docs if doc and doc["status"] in (ACTIVE, FULFILLED)])
        verdicts: list[Verdict] = []
        for doc in docs:
            if doc is None or doc["status"] not in _STORED_STATUSES:
                verdicts.append(_STALE)  # retired, or never became active
                continue
            if doc["external_ref"] != external_ref:
                # Re-keyed away, or being re-keyed to this reference right now (its entry is added
                # before the header changes): skipped, not dropped; the key's expiry clears it.
                verdicts.append(None)
                continue
            if doc["status"] in (ACTIVE, FULFILLED) and not holding[doc["id"]]:
                doc["status"] = CONSUMED  # SAP's goods issues took every held unit
            wanted = doc["status"] != PENDING and channel in (None, doc["channel"]) and status in (None, doc["status"])
            verdicts.append(doc if wanted else None)
        return verdicts

    return _page(inventory, inventory.reservation_index.by_ref(external_ref), after, limit, listed)


def at_location(
    inventory: Inventory, *, location: str, channel: str | None, after: str | None, limit: int
) -> tuple[list[Reservation], str | None]:
    def listed(docs: list[Reservation | None]) -> list[Verdict]:
        active = [doc for doc in docs if doc and doc["status"] == ACTIVE]
        held = _holds(inventory, active, location)
        verdicts: list[Verdict] = []
        for doc in docs:
            if doc is not None and doc["status"] == PENDING:
                verdicts.append(None)  # indexed just before it becomes active
            elif doc is None or doc["status"] != ACTIVE or not held[doc["id"]]:
                verdicts.append(_STALE)  # ended, or every unit here released or issued by SAP
            else:
                verdicts.append(doc)
        return verdicts

    return _page(inventory, inventory.reservation_index.at(location, channel), after, limit, listed)


def _page(
    inventory: Inventory,
    key: str,
    after: str | None,
    limit: int,
    listed: Callable[[list[Reservation | None]], list[Verdict]],
) -> tuple[list[Reservation], str | None]:
    """Up to `limit` reservations from index `key` after the cursor, and the next cursor (None at
    the end). `listed(docs)` gives the verdict on each entry."""
    index = inventory.reservation_index
    items: list[Reservation] = []
    cursor = after
    for _ in range(MAX_BATCHES):
        wanted = limit - len(items)
        members = index.page(key, cursor, wanted)
        verdicts = listed(inventory.reservations.get_many([reservation_id(m) for m in members]))
        index.drop(key, [m for m, verdict in zip(members, verdicts) if verdict is _STALE])
        items += [verdict for verdict in verdicts if verdict is not None and verdict is not _STALE]
        if len(members) < wanted:
            return items, None
        cursor = members[-1]
        if len(items) == limit:
            break
    return items, cursor


def _holds(inventory: Inventory, docs: list[Reservation], location: str | None = None) -> dict[str, bool]:
    """Whether each reservation still holds any unit (at `location`, or anywhere), in one round trip."""
    wanted = [(sku, doc["id"]) for doc in docs for sku in doc["skus"]]
    found = dict.fromkeys((doc["id"] for doc in docs), False)
    for (_, rid), hold in zip(wanted, inventory.ledger.holds(wanted)):
        found[rid] = found[rid] or (hold.get(location, 0) > 0 if location else bool(hold))
    return found
