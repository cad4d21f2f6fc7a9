"""Reservation headers (status, lines, expiry) in Redis, and the writes changing a reservation
together with its holds, index entries and the change stream, each in one round trip. The units
it holds live in the ledger's per-SKU holds; a header lives in its own slot, keyed by its id."""

from __future__ import annotations

import json
from typing import Any

from .catalogue import CatalogueStore
from .keys import Keys
from .ledger import HoldReply, LedgerStore, hold_reply
from .pipelines import run_scripts
from .reservation_index import ReservationIndex
from .rules_store import RulesStore
from .scripts import Scripts


class ReservationStore:
    def __init__(
        self,
        redis,
        keys: Keys,
        scripts: Scripts,
        *,
        ledger: LedgerStore,
        index: ReservationIndex,
        catalogue: CatalogueStore,
        rules: RulesStore,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        self.ledger = ledger
        self.index = index
        self.catalogue = catalogue
        self.rules = rules

    # -- headers -------------------------------------------------------------------------------
    def get(self, reservation_id: str) -> dict | None:
        doc = self.get_text(reservation_id)
        return json.loads(doc) if doc else None

    def get_text(self, reservation_id: str) -> str | None:
        """The header as stored: what `transition(..., unchanged_since=)` compares against."""
        return self.redis.hget(self.keys.reservation(reservation_id), "doc")

    def get_many(self, reservation_ids: list[str]) -> list[dict | None]:
        pipe = self.redis.pipeline(transaction=False)
        for reservation_id in reservation_ids:
            pipe.hget(self.keys.reservation(reservation_id), "doc")
        return [json.loads(doc) if doc else None for doc in pipe.execute()]

    def transition(
        self, reservation: dict, from_statuses: tuple[str, ...], *, unchanged_since: str | None = None
    ) -> tuple[bool, str]:
        script, keys, args = self._transition_call(reservation, from_statuses, unchanged_since=unchanged_since)
        stored, found = script(keys=keys, args=args)
        return bool(stored), found

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

    # -- the steps of a reservation's life, each in one round trip ------------------------------
    def hold(
        self, reservation: dict[str, Any], due_at_ms: int, requests: dict[str, dict[str, Any]]
    ) -> tuple[list[Any], dict[str, HoldReply]]:
        """Store the new (pending) header, schedule its sweep at `due_at_ms` (its request's
        deadline) and hold on every SKU of `requests` ({sku: hold request}), in one round trip that
        also reads the catalogue's and the rules' versions, so the caller knows whether it planned
        with the current ones. Returns (those versions, the hold replies per SKU). The header goes
        first, so that a crash mid-way is swept."""
        replies = run_scripts(
            self.redis,
            [
                self.catalogue.version_call(),
                self.rules.version_call(),
                *self._create_calls(reservation, due_at_ms),
                *(self.ledger.call("hold", sku, request) for sku, request in requests.items()),
            ],
        )
        return replies[:2], dict(zip(requests, map(hold_reply, replies[-len(requests) :])))

    def activate(
        self, reservation: dict, from_statuses: tuple[str, ...], *, expires_at_ms: int, changed_at_ms: int
    ) -> tuple[bool, str]:
        """Index the reservation, commit its pending holds and store its header (only while its
        stored status is one of `from_statuses`: the fence a sweep that abandoned it has moved) in
        one round trip, moving its sweep from its request's deadline to its expiry and recording
        the availability change in it too (the holds are in place already, so in any order of the
        calls). Returns the header write's (stored?, value found)."""
        # The index goes first (run_scripts keeps that order on a cluster too): a crash after it
        # leaves a stale entry, dropped when read, never an active reservation missing from it.
        index = self.index.activated_call(reservation)
        commits = (
            [self.ledger.call("commit", sku, {"res": reservation["id"]}) for sku in reservation["skus"]]
            if len(reservation["skus"]) > 1
            else []
        )
        record = self.ledger.record_call(dict.fromkeys(reservation["skus"], changed_at_ms))
        # XX: a schedule a sweep has ended already is not brought back.
        schedule = ("ZADD", [self.keys.reservation_expiry], ["XX", expires_at_ms, reservation["id"]])
        replies = run_scripts(
            self.redis,
            [
                index,
                *commits,
                self._transition_call(reservation, from_statuses),
                schedule,
                *([record] if record else []),
            ],
        )
        stored, found = replies[1 + len(commits)]
        return bool(stored), found

    def finish(self, reservation: dict, from_statuses: tuple[str, ...], *, keep_seconds: int) -> bool:
        """Store an ended reservation's header (only while its stored status is one of
        `from_statuses`); once stored, end its schedule (no expiry any more, the header readable
        for `keep_seconds`, then gone) and drop it from the location indexes. True when stored."""
        stored, _ = self.transition(reservation, from_statuses)
        if stored:
            # After the change, so a crash in between leaves a stale index entry, dropped when read.
            left = self.index.left_call(reservation)
            run_scripts(self.redis, [*self._finished_calls(reservation["id"], keep_seconds), *([left] if left else [])])
        return stored

    def abandon(self, reservation: dict, *, keep_seconds: int) -> None:
        """Release every hold of a reservation whose request died before making it active, fencing
        each SKU against it for `keep_seconds` (hold.lua refuses it, should the request wake up),
        then end its schedule. The caller has changed its header's status first
        (the fence against its activation), so a crash here leaves it scheduled and swept again."""
        self.ledger.release_all(reservation["skus"], reservation["id"], void_seconds=keep_seconds)
        run_scripts(self.redis, self._finished_calls(reservation["id"], keep_seconds))

    def count_refusal(self, client: str, day: str) -> int:
        """Count one more refused reservation of `client` on the UTC `day`; the count so far."""
        key = self.keys.refused_reservations(client, day)
        count, _ = run_scripts(self.redis, [("INCR", [key], []), ("EXPIRE", [key], [2 * 86400])])
        return int(count)

    def take_over_attempt(self, request_key: str, reservation_id: str, *, keep_seconds: int) -> str | None:
        """Record `reservation_id` as what the request with `request_key` (its client-scoped
        Idempotency-Key) makes; returns the reservation an earlier run of that request made, if any."""
        return self.redis.set(self.keys.reservation_attempt(request_key), reservation_id, ex=keep_seconds, get=True)

    def add_reference(self, reservation: dict, external_ref: str) -> None:
        """Make every SKU's hold answer to `external_ref` as well, and index the reservation by it,
        in one round trip (before the header takes the reference)."""
        self._rekey(reservation, self.index.ref_added_call(reservation, external_ref), add=external_ref)

    def drop_reference(self, reservation: dict, external_ref: str) -> None:
        """Make every SKU's hold no longer answer to `external_ref`, and drop the reservation from
        that reference's index, in one round trip."""
        self._rekey(reservation, self.index.ref_removed_call(reservation, external_ref), drop=external_ref)

    # -- the calls these steps combine, for run_scripts -----------------------------------------
    def _rekey(self, reservation: dict, index: tuple, *, add: str | None = None, drop: str | None = None) -> None:
        change = {"res": reservation["id"], "add": [add] if add else [], "drop": [drop] if drop else []}
        run_scripts(self.redis, [index, *(self.ledger.call("rekey", sku, change) for sku in reservation["skus"])])

    def _create_calls(self, reservation: dict, due_at_ms: int) -> list[tuple]:
        """The writes storing a new header and scheduling its sweep, as `run_scripts` calls."""
        return [
            ("ZADD", [self.keys.reservation_expiry], [due_at_ms, reservation["id"]]),
            (
                "HSET",
                [self.keys.reservation(reservation["id"])],
                ["status", reservation["status"], "doc", json.dumps(reservation)],
            ),
        ]

    def _transition_call(
        self, reservation: dict, from_statuses: tuple[str, ...], *, unchanged_since: str | None = None
    ) -> tuple:
        """The (script, keys, args) writing `reservation` only while its stored status is one of
        `from_statuses` (or, given `unchanged_since`, only while the stored header is still that
        text: no concurrent change is overwritten); its reply is [1|0, value found]."""
        # json.dumps escapes newlines, so a header's text is one line, as the guard needs.
        guard = ["doc", unchanged_since] if unchanged_since is not None else ["status", "\n".join(from_statuses)]
        return (
            self.scripts["compare_and_set"],
            [self.keys.reservation(reservation["id"])],
            [*guard, "status", reservation["status"], "doc", json.dumps(reservation)],
        )

    def _finished_calls(self, reservation_id: str, keep_seconds: int) -> list[tuple]:
        """The writes ending a finished reservation's schedule, as `run_scripts` calls: no expiry
        any more, and the header stays readable for `keep_seconds` (0: goes now), then goes."""
        header = self.keys.reservation(reservation_id)
        return [
            ("ZREM", [self.keys.reservation_expiry], [reservation_id]),
            ("EXPIRE", [header], [keep_seconds]) if keep_seconds else ("DEL", [header], []),
        ]
