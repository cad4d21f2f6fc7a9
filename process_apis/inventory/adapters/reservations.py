"""Reservation headers (status, lines, expiry) in Redis. The units they hold live in the
ledger's per-SKU holds; a header lives in its own slot, keyed by the reservation id."""
from __future__ import annotations

import json

from .keys import Keys
from .scripts import Scripts


class ReservationStore:
    def __init__(self, redis, keys: Keys, scripts: Scripts) -> None:
        self.redis = redis
        self.keys = keys
        self.scripts = scripts

    def create_calls(self, reservation: dict, expires_at_ms: int) -> list[tuple]:
        """The writes storing a new header and scheduling its expiry, as `run_scripts` calls.
        They must run before any unit is held, so that a crash mid-way is swept."""
        return [
            ("ZADD", [self.keys.reservation_expiry], [expires_at_ms, reservation["id"]]),
            ("HSET", [self.keys.reservation(reservation["id"])], ["status", reservation["status"],
                                                                  "doc", json.dumps(reservation)]),
            ("SADD", [self.keys.reservations_by_ref(reservation["external_ref"])], [reservation["id"]]),
        ]

    def get(self, reservation_id: str) -> dict | None:
        doc = self.redis.hget(self.keys.reservation(reservation_id), "doc")
        return json.loads(doc) if doc else None

    def transition_call(self, reservation: dict, from_statuses: tuple[str, ...]) -> tuple:
        """The (script, keys, args) writing `reservation` only while its stored status is one of
        `from_statuses`; its reply is [1|0, status found]."""
        return (self.scripts["compare_and_set"], [self.keys.reservation(reservation["id"])],
                ["status", "\n".join(from_statuses), "status", reservation["status"], "doc", json.dumps(reservation)])

    def transition(self, reservation: dict, from_statuses: tuple[str, ...]) -> tuple[bool, str]:
        script, keys, args = self.transition_call(reservation, from_statuses)
        stored, found = script(keys=keys, args=args)
        return bool(stored), found

    def retire(self, reservation_id: str, keep_seconds: int) -> None:
        """A finished reservation stays readable for a while, then goes."""
        self.redis.expire(self.keys.reservation(reservation_id), keep_seconds)

    def schedule_expiry(self, reservation_id: str, at_ms: int | None) -> None:
        if at_ms is None:
            self.redis.zrem(self.keys.reservation_expiry, reservation_id)
        else:
            self.redis.zadd(self.keys.reservation_expiry, {reservation_id: at_ms})

    def due(self, now_ms: int, lease_ms: int, limit: int = 100) -> list[str]:
        """Reservations whose expiry has passed, leased for `lease_ms` so a crashed sweep retries."""
        due = self.redis.zrangebyscore(self.keys.reservation_expiry, "-inf", now_ms, start=0, num=limit)
        if due:
            self.redis.zadd(self.keys.reservation_expiry, {rid: now_ms + lease_ms for rid in due}, xx=True)
        return due

    def by_external_ref(self, external_ref: str) -> list[str]:
        return sorted(self.redis.smembers(self.keys.reservations_by_ref(external_ref)))
