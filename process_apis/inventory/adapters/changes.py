"""The availability.changed stream: which SKUs' availability may have moved, and since when.

Writers (ingest, reservations, the expiry sweeper) append one entry per request, in the round
trip of the change itself and after it (see `pipelines.run_scripts_then`). The publisher reads
the stream as a consumer group: an entry stays pending until Salesforce acknowledged what it
caused, and a publisher taking over claims every pending entry, so a crash loses nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from redis.exceptions import ResponseError

from .keys import Keys

log = logging.getLogger(__name__)

GROUP = "publisher"
#: A bound of last resort for a stream nobody reads (no publisher configured); a publisher that
#: finds entries trimmed before it read them recomputes every SKU (see `join`).
MAX_ENTRIES = 1_000_000
CLAIM_CHUNK = 1000


@dataclass(frozen=True)
class Change:
    entry_id: str
    #: SKU -> the oldest occurred_at (epoch ms) behind the change
    skus: dict[str, int]


def stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _change(entry_id: str, fields: dict) -> Change:
    try:
        skus = {str(sku): int(ms) for sku, ms in json.loads(fields["skus"]).items()}
    except (KeyError, ValueError, TypeError, AttributeError):
        # Only this module writes entries; an unreadable one is reported and acknowledged empty.
        log.error("unreadable availability change entry", extra={"entry_id": entry_id})
        skus = {}
    return Change(entry_id, skus)


class ChangeStream:
    def __init__(self, redis, keys: Keys, *, max_entries: int = MAX_ENTRIES) -> None:
        self.redis = redis
        self.key = keys.availability_changes
        self.max_entries = max_entries

    # -- writers ------------------------------------------------------------------------
    def record_call(self, changed: dict[str, int]) -> tuple:
        """The XADD recording that the SKUs of `changed` ({sku: occurred_at ms}) moved, as a
        `run_scripts` call."""
        body = json.dumps(changed, separators=(",", ":"))
        return "XADD", [self.key], ["MAXLEN", "~", self.max_entries, "*", "skus", body]

    def republish(self, skus: list[str], at_ms: int) -> None:
        """Record that `skus` moved at `at_ms`, on its own: the publisher computes their values
        anew and sends them."""
        command, keys, args = self.record_call(dict.fromkeys(skus, at_ms))
        self.redis.execute_command(command, *keys, *args)

    # -- the publisher ------------------------------------------------------------------
    def join(self, consumer: str) -> tuple[bool, list[Change]]:
        """Take over the group as its only reader: (whether changes may have been missed, every
        pending entry, now claimed by `consumer`). Missed: the group is new (what came before it
        was never read) or entries were trimmed away before being read."""
        try:
            self.redis.xgroup_create(self.key, GROUP, id="$", mkstream=True)
            missed = True
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
            missed = self.trimmed_unread()
        changes, start = [], "0-0"
        while True:
            # Only the lease holder reads, so whoever else holds pending entries is gone.
            start, claimed, *deleted = self.redis.xautoclaim(self.key, GROUP, consumer, 0, start, count=CLAIM_CHUNK)
            changes += [_change(entry_id, fields) for entry_id, fields in claimed if fields]
            gone = [entry_id for entry_id, fields in claimed if not fields] + (deleted[0] if deleted else [])
            if gone:
                self.redis.xack(self.key, GROUP, *gone)
            if start == "0-0":
                break
        for other in self.redis.xinfo_consumers(self.key, GROUP):
            if other["name"] != consumer and not other["pending"]:
                self.redis.xgroup_delconsumer(self.key, GROUP, other["name"])
        return missed, changes

    def trimmed_unread(self) -> bool:
        """Whether the stream's bound trimmed entries before the group read them (a publisher
        stuck behind a long Salesforce outage, or none running for long). The publisher
        itself trims only below an entry it acknowledged, which keeps the first entry at or before
        the group's last delivered one; the bound may also trim entries read already, and then
        this errs on the safe side (every SKU is computed again)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.xinfo_stream(self.key)
        pipe.xinfo_groups(self.key)
        info, groups = pipe.execute()
        group = next(g for g in groups if g["name"] == GROUP)
        if not info.get("first-entry"):
            return False  # neither the bound nor the publisher ever trims a stream empty
        if stream_id(group["last-delivered-id"]) == (0, 0):  # nothing delivered yet, so nothing trimmed by us
            return int(info["entries-added"]) > int(info["length"])
        return stream_id(info["first-entry"][0]) > stream_id(group["last-delivered-id"])

    def read(self, consumer: str, *, count: int, block_ms: int | None) -> list[Change]:
        """New entries for `consumer`, waiting up to `block_ms` for the first (None: not at all)."""
        reply = self.redis.xreadgroup(GROUP, consumer, {self.key: ">"}, count=count, block=block_ms)
        return [_change(entry_id, fields) for _, entries in reply or () for entry_id, fields in entries]

    def acknowledge(self, entry_ids: list[str]) -> None:
        """Done with these entries: acknowledge them and trim what no reader needs any more."""
        if not entry_ids:
            return
        pipe = self.redis.pipeline(transaction=False)
        pipe.xack(self.key, GROUP, *entry_ids)
        pipe.xpending(self.key, GROUP)
        _, pending = pipe.execute()
        # Everything older than the oldest pending entry (or than the newest one just acknowledged,
        # when none is pending) has been read and acknowledged.
        keep_from = pending["min"] if pending["pending"] else max(entry_ids, key=stream_id)
        self.redis.xtrim(self.key, minid=keep_from, approximate=True)
