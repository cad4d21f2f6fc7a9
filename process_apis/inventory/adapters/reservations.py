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

    def create(self, reservation: dict, expires_at_ms: int) -> None:
        """Store a new header and schedule its expiry first, so a crash mid-way is swept."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self.keys.reservation_expiry, {reservation["id"]: expires_at_ms})
        pipe.hset(self.keys.reservation(reservation["id"]), mapping={"status": reservation["status"], "doc": json.dumps(reservation)})
        pipe.sadd(self.keys.reservations_by_ref(reservation["external_ref"]), reservation["id"])
        pipe.execute()

    def get(self, reservation_id: str) -> dict | None:
        doc = self.redis.hget(self.keys.reservation(reservation_id), "doc")
        return json.loads(doc) if doc else None

    def transition(self, reservation: dict, from_statuses: tuple[str, ...]) -> tuple[bool, str]:
        """Write `reservation` only if its stored status is still one of `from_statuses`."""
        stored, found = self.scripts["compare_and_set"](
            keys=[self.keys.reservation(reservation["id"])],
            args=["status", "\n".join(from_statuses), "status", reservation["status"], "doc", json.dumps(reservation)],
        )
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
