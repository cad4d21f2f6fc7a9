"""Replay: the per-SKU log re-run into keys under another prefix (`inventory-gateway replay`), and
the rebuilt positions compared with the live ones as they stood at the same log entry."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..domain.events import InventoryEvent, event_from_record
from .keys import Keys
from .ledger import LedgerStore
from .pipelines import run_scripts

#: Keys deleted, expired or measured per round trip.
KEYS_PER_CALL = 500
#: The log id standing for "no entry" (the snapshot of a SKU whose log is empty).
NO_ENTRY = "0-0"


def replay_sku(source: LedgerStore, target: LedgerStore, sku: str, *, until: str = "+", chunk: int = 500) -> int:
    """Re-run one SKU's logged changes of `source` against `target`, in log order, up to the entry
    `until` (included). Events go through the same apply script; holds replay their logged
    allocations. Returns the number of log entries replayed."""
    count = 0
    pending_events: list[InventoryEvent] = []
    for _, op, body in source.log_entries(sku, until=until):
        count += 1
        if op == "event":
            pending_events.append(event_from_record(json.loads(body)))
            if len(pending_events) >= chunk:
                target.apply(pending_events)
                pending_events = []
            continue
        if pending_events:
            target.apply(pending_events)
            pending_events = []
        target.redis.sadd(target.keys.skus, sku)
        target._run(op, sku, json.loads(body))
    if pending_events:
        target.apply(pending_events)
    return count


def replay(source: LedgerStore, target: LedgerStore, skus: Iterable[str] | None = None) -> int:
    """Re-run every logged change of `source` (of `skus`, default all) against `target`; entries replayed."""
    return sum(replay_sku(source, target, sku) for sku in (skus if skus is not None else source.all_skus()))


@dataclass
class ReplayReport:
    prefix: str
    skus: int = 0
    log_entries: int = 0
    #: what the run left in Redis: its keys, and their size as Redis counts it (MEMORY USAGE)
    keys_written: int = 0
    bytes_written: int = 0
    ttl_seconds: int = 0
    #: "sku@location" of each rebuilt position unlike the live one; None when not verified
    differing_positions: list[str] | None = field(default=None)


class Replay:
    """Rebuilds `source`'s positions from its log under `prefix`, the previous run's keys deleted
    first (replaying onto them would find every event a duplicate and hold every reservation twice)
    and every key written expiring after `ttl_seconds`, so runs never pile up in live Redis."""

    def __init__(self, source: LedgerStore, *, prefix: str, ttl_seconds: int) -> None:
        if prefix == source.keys.prefix:
            raise ValueError(f"the replay prefix must differ from the live one ({prefix!r})")
        self.source, self.ttl_seconds = source, ttl_seconds
        # A bare ledger: its changes are published nowhere and read no near cache.
        self.target = LedgerStore(source.redis, keys=Keys(prefix), policy=source.policy, scripts=source.scripts)
        self.snapshot_script = source.scripts["position_snapshot"]

    @property
    def prefix(self) -> str:
        return self.target.keys.prefix

    def run(self, *, verify: bool) -> ReplayReport:
        """Rebuild every SKU; with `verify`, compare it with the live positions at the log entry
        it was rebuilt up to, so changes arriving meanwhile raise no false alarm."""
        self._each_key(self._keys(), "UNLINK")
        skus = self.source.all_skus()
        report = ReplayReport(self.prefix, skus=len(skus), ttl_seconds=self.ttl_seconds)
        differing: list[str] = []
        for sku in skus:
            live_at, live = self.snapshot(sku)
            if live_at != NO_ENTRY:
                report.log_entries += replay_sku(self.source, self.target, sku, until=live_at)
            if verify:
                differing += self.differences(sku, live)
        if verify:
            report.differing_positions = differing
        keys = self._keys()
        self._each_key(keys, "EXPIRE", self.ttl_seconds)
        report.keys_written = len(keys)
        report.bytes_written = sum(size or 0 for size in self._each_key(keys, "MEMORY USAGE"))
        return report

    def snapshot(self, sku: str) -> tuple[str, dict[str, dict[str, str]]]:
        """(id of the SKU's newest log entry, its live positions by location), read in one step."""
        reply = self.snapshot_script(keys=[self.source.keys.log(sku)], args=[self.source.keys.sku_base(sku)])
        last, *pairs = reply
        return last, {loc: dict(zip(flat[::2], flat[1::2])) for loc, flat in zip(pairs[::2], pairs[1::2])}

    def differences(self, sku: str, live: dict[str, dict[str, str]]) -> list[str]:
        rebuilt_at = self.target.locations_holding([sku])[sku]
        rebuilt = {loc: self.target.raw_position(sku, loc) for loc in rebuilt_at}
        return [f"{sku}@{loc}" for loc in sorted(live.keys() | rebuilt.keys()) if live.get(loc) != rebuilt.get(loc)]

    def _keys(self) -> list[str]:
        """Every key under the prefix (on a cluster, every master's)."""
        return list(self.source.redis.scan_iter(match=f"{self.prefix}:*", count=1000))

    def _each_key(self, keys: list[str], command: str, *args) -> list:
        replies: list = []
        for start in range(0, len(keys), KEYS_PER_CALL):
            replies += run_scripts(
                self.source.redis, [(command, [key], list(args)) for key in keys[start : start + KEYS_PER_CALL]]
            )
        return replies
