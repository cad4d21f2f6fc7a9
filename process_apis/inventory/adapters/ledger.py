"""The Redis ledger: applies events and reservation holds through Lua, reads positions (also
consistently with the catalogue and rules), and reads the per-SKU log (adapters/replay.py replays it)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from ..domain.events import (
    EventType,
    InventoryEvent,
    event_record,
    field_changes,
    snapshot_counts,
)
from ..domain.incoming import Shipment
from ..domain.ledger import Outcome, Position
from ..domain.locations import Catalogue
from ..domain.rules import RuleSet
from .catalogue import CatalogueStore
from .changes import ChangeStream
from .keys import Keys
from .near_cache import DirectReads, NearCache
from .pipelines import run_scripts, run_scripts_then
from .rules_store import RulesStore
from .scripts import Scripts

_QUANTITY_FIELDS = ("on_hand", "quality_inspection", "blocked", "in_transit", "reserved")


@dataclass(frozen=True)
class Applied:
    """What the ledger did with one event."""

    outcome: Outcome
    too_old: bool = False
    went_negative: tuple[str, ...] = ()


@dataclass(frozen=True)
class WatermarkReset:
    """What a watermark reset found (ms since the epoch; None: the field had no watermark)."""

    before: dict[str, int | None]
    #: the event id of the count that set each watermark
    set_by: dict[str, str | None]
    horizon: tuple[int, int]  # before, after
    journal_entries_dropped: int


@dataclass(frozen=True)
class JournalPolicy:
    dedup_ttl_seconds: int
    journal_seconds: int
    journal_max: int

    def as_json(self) -> str:
        return json.dumps({"ttl": self.dedup_ttl_seconds, "jms": self.journal_seconds * 1000, "jmax": self.journal_max})


def _script_payload(event: InventoryEvent) -> dict:
    payload = {"id": event.event_id, "at": event.occurred_at_ms, "e": json.dumps(event_record(event))}
    if event.is_snapshot:
        payload.update(snap=True, loc=event.location, counts=snapshot_counts(event))
    else:
        payload["changes"] = [[c.location, c.field, c.amount] for c in field_changes(event)]
        if (
            event.type is EventType.ISSUED
            and event.reference
            and (event.stock_type or "unrestricted") == "unrestricted"
        ):
            payload["ref"] = event.reference
        if event.type is EventType.TRANSFER_SHIPPED:
            payload["ship"] = shipment_payload(event)
    return payload


def shipment_payload(event: InventoryEvent) -> dict:
    """What the apply script keeps of a shipment for its ETA (no nulls: cjson has no nil for them)."""
    shipment = {
        "q": event.quantity,
        "f": event.location,
        "t": event.to_location,
        "r": event.reference,
        "e": int(event.expected_at.timestamp() * 1000) if event.expected_at else None,
    }
    return {name: value for name, value in shipment.items() if value is not None}


def _ms(stored: str | None) -> int | None:
    return None if stored is None else int(stored)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _as_list(value) -> list:
    # cjson encodes an empty Lua table as {}.
    return value if isinstance(value, list) else []


class HoldShortage(TypedDict):
    line: int  # 1-based, among the lines of the SKU's request
    requested: int
    available: int


class HoldOverShare(TypedDict):
    line: int  # 1-based, among the lines of the SKU's request
    requested: int
    held: int  # what the cart or order holds there already
    limit: int  # the most it may hold there


class HoldReply(TypedDict):
    """The hold script's reply for one SKU."""

    ok: bool
    allocs: list[list[Any]]  # [line, location, units] held
    short: list[HoldShortage]
    #: short only because of other reservations' pending holds (which may still roll back)
    contended: NotRequired[bool]
    #: the reservation was abandoned (its request past its deadline): nothing held
    void: NotRequired[bool]
    #: lines that would take their cart or order past its share of the SKU (hold.lua's `cap`)
    capped: NotRequired[list[HoldOverShare]]


def hold_reply(raw: str) -> HoldReply:
    """The hold script's reply: {ok, allocs [[line, loc, qty]], short [{line, requested, available}],
    capped [{line, requested, held, limit}], contended?, void?}."""
    reply: HoldReply = json.loads(raw)
    reply["allocs"] = _as_list(reply.get("allocs"))
    reply["short"] = _as_list(reply.get("short"))
    reply["capped"] = _as_list(reply.get("capped"))
    return reply


def shipment_from_record(event_id: str, record: dict) -> Shipment:
    return Shipment(
        event_id=event_id,
        quantity=record["q"],
        shipped_at_ms=record["s"],
        from_location=record["f"],
        reference=record.get("r"),
        expected_at_ms=record.get("e"),
    )


def position_from_hash(sku: str, location: str, fields: dict[str, str]) -> Position:
    quantities = {name: int(fields.get(name, 0)) for name in _QUANTITY_FIELDS}
    by_channel = {name[2:]: int(value) for name, value in fields.items() if name.startswith("r:") and int(value)}
    return Position(sku=sku, location=location, reserved_by_channel=by_channel, **quantities)


class LedgerStore:
    def __init__(
        self,
        redis,
        *,
        keys: Keys,
        policy: JournalPolicy,
        scripts: Scripts | None = None,
        changes: ChangeStream | None = None,
        reads: NearCache | DirectReads | None = None,
        catalogue: CatalogueStore | None = None,
        rules: RulesStore | None = None,
    ) -> None:
        self.redis = redis
        self._direct = DirectReads(redis)
        self.near = reads or self._direct  # reads that may come from this process's near cache
        self.keys = keys
        self.policy = policy
        self.scripts = scripts or Scripts(redis)
        self.changes = changes  # None: its changes are recorded nowhere (a ledger built alone)
        # What positions are read consistently with (read_consistent); None in a ledger built alone.
        self.catalogue = catalogue
        self.rules = rules

    def record_call(self, changed: dict[str, int]) -> tuple | None:
        """The call recording that the SKUs of `changed` ({sku: occurred_at ms}) may have changed
        availability, for the publisher; None when this ledger's changes are not published.

        It runs in the round trip of the change, after it, and whatever the change's outcome: a
        request whose answer was lost is retried by its caller and then finds its events
        duplicates or its holds gone, yet must record again, since the first record may never have
        been written. The publisher computes values when it sends, so a record too many costs
        only a comparison with what was last published."""
        return self.changes.record_call(changed) if self.changes and changed else None

    # -- events ---------------------------------------------------------------------------
    def apply(self, events: list[InventoryEvent]) -> list[Applied]:
        """Apply events, each SKU's in one atomic script call, all SKUs in one round trip."""
        by_sku: dict[str, list[int]] = defaultdict(list)
        for index, event in enumerate(events):
            by_sku[event.sku].append(index)
        self.redis.sadd(self.keys.skus, *by_sku)
        config = self.policy.as_json()
        script = self.scripts["apply_events"]
        changed = {sku: min(events[i].occurred_at_ms for i in indexes) for sku, indexes in by_sku.items()}
        replies = run_scripts_then(
            self.redis,
            [
                (
                    script,
                    [self.keys.log(sku)],
                    [self.keys.sku_base(sku), config, json.dumps([_script_payload(events[i]) for i in indexes])],
                )
                for sku, indexes in by_sku.items()
            ],
            self.record_call(changed),
        )
        results: list[Applied | None] = [None] * len(events)
        for indexes, reply in zip(by_sku.values(), replies):
            for index, item in zip(indexes, json.loads(reply)):
                outcome = item["o"]
                results[index] = Applied(
                    outcome=Outcome.DEAD_LETTERED if outcome == "too_old" else Outcome(outcome),
                    too_old=outcome == "too_old",
                    went_negative=tuple(_as_list(item["neg"])),
                )
        applied = [result for result in results if result is not None]
        assert len(applied) == len(events)  # each event was in its SKU's call
        return applied

    def reset_watermarks(
        self, sku: str, location: str, fields: Iterable[str], *, at_ms: int, cut_ms: int
    ) -> WatermarkReset:
        """Clear the watermarks of `fields` of one position (see lua/reset_watermarks.lua): its
        journal entries dated after `cut_ms` go, a horizon past `at_ms` comes back to it. Logged, so
        a replay resets at the same point; quantities are left to the next count."""
        chosen = list(fields)
        request = {"loc": location, "fields": chosen, "at": at_ms, "cut": cut_ms}
        reply = json.loads(self._run("reset_watermarks", sku, request))
        marks = reply["watermarks"] if isinstance(reply["watermarks"], dict) else {}  # cjson: {} for no fields
        horizon_before, horizon_after = reply["horizon"]
        return WatermarkReset(
            before={field: _ms((marks.get(field) or {}).get("at")) for field in chosen},
            set_by={field: (marks.get(field) or {}).get("id") for field in chosen},
            horizon=(int(horizon_before), int(horizon_after)),
            journal_entries_dropped=reply["dropped"],
        )

    # -- reservation holds: one atomic call per SKU, several SKUs in one round trip ----------
    def call(self, name: str, sku: str, request: dict) -> tuple:
        """The (script, keys, args) of one ledger script call, for `run_scripts`."""
        return self.scripts[name], [self.keys.log(sku)], [self.keys.sku_base(sku), json.dumps(request)]

    def _run(self, name: str, sku: str, request: dict):
        script, keys, args = self.call(name, sku, request)
        return script(keys=keys, args=args)

    def hold_many(self, requests: dict[str, dict[str, Any]]) -> dict[str, HoldReply]:
        """Hold on every SKU of `requests` ({sku: hold request}) in one round trip; replies per SKU.
        No SKU registration here: only a SKU with stock, so with events, can be held."""
        replies = run_scripts(self.redis, [self.call("hold", sku, request) for sku, request in requests.items()])
        return {sku: hold_reply(reply) for sku, reply in zip(requests, replies)}

    def hold(self, sku: str, request: dict[str, Any]) -> HoldReply:
        return self.hold_many({sku: request})[sku]

    def commit(self, sku: str, reservation_id: str) -> None:
        self._run("commit", sku, {"res": reservation_id})

    def release(self, sku: str, reservation_id: str, items: list[list] | None = None) -> list[list]:
        request = {"res": reservation_id} if items is None else {"res": reservation_id, "items": items}
        [released] = run_scripts_then(
            self.redis, [self.call("release", sku, request)], self.record_call({sku: _now_ms()})
        )
        return _as_list(json.loads(released))

    def release_all(self, skus: list[str], reservation_id: str, *, void_seconds: int | None = None) -> None:
        """Release every unit the reservation holds on `skus`, in one round trip; with
        `void_seconds`, no hold for it is taken on them for that long (release.lua)."""
        request = {"res": reservation_id, **({"void": void_seconds} if void_seconds else {})}
        if skus:
            run_scripts_then(
                self.redis,
                [self.call("release", sku, request) for sku in skus],
                self.record_call(dict.fromkeys(skus, _now_ms())),
            )

    def fulfil(self, sku: str, reservation_id: str, at_ms: int) -> bool:
        return bool(self._run("fulfil", sku, {"res": reservation_id, "at": at_ms}))

    def holds_anything(self, skus: list[str], reservation_id: str) -> bool:
        pipe = self.redis.pipeline(transaction=False)
        for sku in skus:
            pipe.exists(self.keys.hold(sku, reservation_id))
        return any(pipe.execute())

    def holds(self, wanted: list[tuple[str, str]]) -> list[dict[str, int]]:
        """The units per location each (sku, reservation id) hold still has, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for sku, reservation_id in wanted:
            pipe.hgetall(self.keys.hold(sku, reservation_id))
        # Hold hashes keep their metadata in fields starting with "_" (see lua/lib.lua).
        return [{loc: int(units) for loc, units in hold.items() if not loc.startswith("_")} for hold in pipe.execute()]

    # -- reads ----------------------------------------------------------------------------
    def shipments(self, pairs: list[tuple[str, str]]) -> list[list[Shipment]]:
        """The shipments on record towards each (sku, location), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for sku, location in pairs:
            pipe.hgetall(self.keys.incoming(sku, location))
        return [
            [shipment_from_record(event_id, json.loads(record)) for event_id, record in found.items()]
            for found in pipe.execute()
        ]

    def positions(self, pairs: list[tuple[str, str]], near: bool = False) -> list[Position]:
        """The positions of (sku, location) pairs. `near`: answered from the near cache where it can
        (reads that serve a caller, not ones that decide a write or a publication)."""
        return self._read_positions(pairs, (), near)[1]

    def _read_positions(
        self, pairs: list[tuple[str, str]], probes: tuple[tuple[str, ...], ...], near: bool
    ) -> tuple[list[Any], list[Position]]:
        """The replies of `probes` (other read commands, e.g. version checks) and the positions of
        `pairs`, from the same round trip."""
        commands = [*probes, *(("HGETALL", self.keys.position(sku, location)) for sku, location in pairs)]
        replies = (self.near if near else self._direct).read(commands)
        positions = [position_from_hash(sku, loc, fields) for (sku, loc), fields in zip(pairs, replies[len(probes) :])]
        return replies[: len(probes)], positions

    def read_consistent(
        self, pairs_for: Callable[[Catalogue], list[tuple[str, str]]], near: bool = False
    ) -> tuple[Catalogue, RuleSet, list[Position]]:
        """(catalogue, rules, positions) in one round trip, consistent with each other; `near`: from
        the near cache where it can (see `positions`).

        Which (sku, location) positions to read depends on the catalogue (a group's members), so
        `pairs_for(catalogue)` plans them from the catalogue as last seen, and the version checks
        ride in the same pipeline; should a version have moved, it plans again with the new
        catalogue and rules.
        """
        if self.catalogue is None or self.rules is None:
            raise RuntimeError("a ledger built without its catalogue and rules cannot read consistently with them")
        catalogue, (_, _, rules) = self.catalogue.last(), self.rules.last()
        for _ in range(3):
            pairs = pairs_for(catalogue)
            expected = [self.catalogue.cached_version, self.rules.cached_version]
            probes = (self.catalogue.version_command, self.rules.version_command)
            versions, positions = self._read_positions(pairs, probes, near)
            catalogue, (_, _, rules) = self.catalogue.current(versions[0]), self.rules.current(versions[1])
            if versions == expected:
                break
        return catalogue, rules, positions

    def raw_position(self, sku: str, location: str) -> dict[str, str]:
        return self.redis.hgetall(self.keys.position(sku, location))

    def locations_holding(self, skus: list[str], near: bool = False) -> dict[str, list[str]]:
        commands = [("SMEMBERS", self.keys.sku_locations(sku)) for sku in skus]
        replies = (self.near if near else self._direct).read(commands)
        return {sku: sorted(locations) for sku, locations in zip(skus, replies)}

    def all_skus(self) -> list[str]:
        return sorted(self.redis.smembers(self.keys.skus))

    def log_entries(self, sku: str, chunk: int = 1000, until: str = "+") -> Iterator[tuple[str, str, str]]:
        """(entry id, op, body) of one SKU's log, oldest first, up to the entry `until` (included)."""
        start = "-"
        while True:
            entries = self.redis.xrange(self.keys.log(sku), min=start, max=until, count=chunk)
            for entry_id, fields in entries:
                yield entry_id, fields["op"], fields["body"]
            if len(entries) < chunk:
                return
            start = "(" + entries[-1][0]
