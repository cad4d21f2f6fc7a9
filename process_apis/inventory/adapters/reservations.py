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
        ]

    def get(self, reservation_id: str) -> dict | None:
        doc = self.get_text(reservation_id)
        return json.loads(doc) if doc else None

    def get_text(self, reservation_id: str) -> str | None:
        """The header as stored: what `transition(..., unchanged_since=)` compares against."""
        return self.redis.hget(self.keys.reservation(reservation_id), "doc")

    def transition_call(self, reservation: dict, from_statuses: tuple[str, ...], *,
                        unchanged_since: str | None = None) -> tuple:
        """The (script, keys, args) writing `reservation` only while its stored status is one of
        `from_statuses` (or, given `unchanged_since`, only while the stored header is still that
        text: no concurrent change is overwritten); its reply is [1|0, value found]."""
        # json.dumps escapes newlines, so a header's text is one line, as the guard needs.
        guard = ["doc", unchanged_since] if unchanged_since is not None else ["status", "\n".join(from_statuses)]
        return (self.scripts["compare_and_set"], [self.keys.reservation(reservation["id"])],
                [*guard, "status", reservation["status"], "doc", json.dumps(reservation)])

    def transition(self, reservation: dict, from_statuses: tuple[str, ...], *,
                   unchanged_since: str | None = None) -> tuple[bool, str]:
        script, keys, args = self.transition_call(reservation, from_statuses, unchanged_since=unchanged_since)
        stored, found = script(keys=keys, args=args)
        return bool(stored), found

    def finished_calls(self, reservation_id: str, keep_seconds: int) -> list[tuple]:
        """The writes ending a finished reservation's schedule, as `run_scripts` calls: no expiry
        any more, and the header stays readable for `keep_seconds`, then goes."""
        return [("ZREM", [self.keys.reservation_expiry], [reservation_id]),
                ("EXPIRE", [self.keys.reservation(reservation_id)], [keep_seconds])]

    def get_many(self, reservation_ids: list[str]) -> list[dict | None]:
        pipe = self.redis.pipeline(transaction=False)
        for reservation_id in reservation_ids:
            pipe.hget(self.keys.reservation(reservation_id), "doc")
        return [json.loads(doc) if doc else None for doc in pipe.execute()]

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
