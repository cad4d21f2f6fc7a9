"""The reservation indexes: by external reference (every status) and by location (active
reservations holding stock there, all channels and per channel), newest first, in one slot.

An entry is a hint, never the truth. Writers add it before the change that makes it true and
remove it after the change that makes it false, so a process dying in between leaves a stale
entry, never a missing one; readers check every entry against the reservation and its holds,
and drop the stale ones (see service/reservation_queries.py). SAP's goods issue ends holds
inside a SKU's script, which cannot reach this slot: those entries go stale and are dropped so.
"""

from __future__ import annotations

from datetime import datetime

from .keys import Keys
from .pipelines import run_scripts
from .scripts import Scripts

#: Members are "<13 digits>:<id>" with the digits counting down as time goes on, all at score 0:
#: lexical order is then newest first and a member is an exact page cursor.
_NEWEST_FIRST = 10**13 - 1


def member(reservation: dict) -> str:
    created_ms = int(datetime.fromisoformat(reservation["created_at"]).timestamp() * 1000)
    return f"{_NEWEST_FIRST - created_ms:013d}:{reservation['id']}"


def reservation_id(index_member: str) -> str:
    return index_member.partition(":")[2]


def held_locations(reservation: dict) -> list[str]:
    """The locations the reservation's header says it still holds units at."""
    return sorted({a["location"] for line in reservation["lines"] for a in line["allocations"] if a["quantity"] > 0})


def allocated_locations(reservation: dict) -> list[str]:
    """Every location the reservation ever held units at (released ones included)."""
    return sorted({a["location"] for line in reservation["lines"] for a in line["allocations"]})


class ReservationIndex:
    def __init__(self, redis, keys: Keys, scripts: Scripts, *, by_ref_keep_seconds: int) -> None:
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        # A reference's index outlives its last reservation's retention, then goes with it.
        self.by_ref_keep_seconds = by_ref_keep_seconds

    def by_ref(self, external_ref: str) -> str:
        return self.keys.reservations_by_ref(external_ref)

    def at(self, location: str, channel: str | None = None) -> str:
        return self.keys.reservations_at(location, channel)

    def _call(self, reservation: dict, added: list[str], removed: list[str], keep: dict[str, int]) -> tuple:
        """One script call adding the reservation to `added` and removing it from `removed`."""
        index_keys = [*added, *removed]
        ops = "+" * len(added) + "-" * len(removed)
        return (
            self.scripts["reservation_index"],
            index_keys,
            [member(reservation), ops, *(keep.get(key, 0) for key in index_keys)],
        )

    def _at(self, reservation: dict, locations: list[str]) -> list[str]:
        channel = reservation["channel"]
        return [
            key
            for loc in locations
            for key in (self.keys.reservations_at(loc), self.keys.reservations_at(loc, channel))
        ]

    def activated_call(self, reservation: dict) -> tuple:
        """Index a reservation about to become active: by its reference and where it holds units."""
        by_ref = self.keys.reservations_by_ref(reservation["external_ref"])
        return self._call(
            reservation,
            [by_ref, *self._at(reservation, held_locations(reservation))],
            [],
            {by_ref: self.by_ref_keep_seconds},
        )

    def left_call(self, reservation: dict, locations: list[str] | None = None) -> tuple | None:
        """Drop an ended reservation (or one no longer holding at `locations`) from the location indexes;
        None when there is nothing to drop."""
        removed = self._at(reservation, allocated_locations(reservation) if locations is None else locations)
        return self._call(reservation, [], removed, {}) if removed else None

    def ref_added_call(self, reservation: dict, external_ref: str) -> tuple:
        by_ref = self.keys.reservations_by_ref(external_ref)
        return self._call(reservation, [by_ref], [], {by_ref: self.by_ref_keep_seconds})

    def ref_removed_call(self, reservation: dict, old_ref: str) -> tuple:
        return self._call(reservation, [], [self.keys.reservations_by_ref(old_ref)], {})

    def remove_from_locations(self, reservation: dict, locations: list[str] | None = None) -> None:
        """Drop an ended reservation (or one no longer holding at `locations`) from the location
        indexes; as every removal, after the change that made its entries false."""
        if left := self.left_call(reservation, locations):
            run_scripts(self.redis, [left])

    def page(self, key: str, after: str | None, limit: int) -> list[str]:
        """Up to `limit` members of index `key` after the cursor `after` (a member), newest first."""
        return self.redis.zrangebylex(key, f"({after}" if after else "-", "+", start=0, num=limit)

    def drop(self, key: str, stale: list[str]) -> None:
        if stale:
            self.redis.zrem(key, *stale)
