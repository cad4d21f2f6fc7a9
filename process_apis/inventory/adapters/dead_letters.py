"""The dead-letter queue: events that could not be applied, with their reason, kept until
re-driven or discarded (the discard reason is kept too)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .keys import Keys
from .pipelines import run_scripts
from .scripts import Scripts

OPEN, REDRIVEN, DISCARDED = "open", "redriven", "discarded"
#: One entry as stored and listed: id, status, reason, detail, payload, source, attempts, ...
DeadLetter = dict[str, Any]


def _storable(text: str) -> str:
    """`text` as Redis can store it: an item may be dead-lettered for the very text no UTF-8 holds (a lone
    surrogate); the payload itself is kept as ASCII JSON."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _now() -> str:
    return datetime.now(UTC).isoformat()


class DeadLetterStore:
    def __init__(self, redis, keys: Keys, scripts: Scripts) -> None:
        self.redis = redis
        self.keys = keys
        self.scripts = scripts

    def _call_args(self, op: str, entry_id: str, reason: str, fields: dict) -> tuple:
        keys = [
            self.keys.dead_letter(entry_id),
            self.keys.dead_letter_index(OPEN),
            self.keys.dead_letter_index(OPEN, reason),
            self.keys.dead_letter_index("closed"),
        ]
        flat = [item for pair in fields.items() for item in pair]
        return self.scripts["dead_letters"], keys, [op, entry_id, *flat]

    def add_many(
        self, items: Sequence[tuple[str, str, object, str | None]], *, correlation_id: str | None
    ) -> list[str]:
        """Dead-letter (reason, detail, payload, source) items in one round trip; returns their ids.
        With no source given, the payload's own `source` field names it."""
        calls, ids = [], []
        for reason, detail, payload, source in items:
            entry_id = f"{time.time_ns() // 1_000_000:013d}-{uuid.uuid4().hex[:12]}"
            ids.append(entry_id)
            fields = {
                "id": entry_id,
                "status": OPEN,
                "reason": reason,
                "detail": detail,
                "payload": json.dumps(payload),
                "source": _storable(source or (str(payload.get("source", "")) if isinstance(payload, dict) else "")),
                "correlation_id": correlation_id or "",
                "received_at": _now(),
                "attempts": 0,
            }
            calls.append(self._call_args("add", entry_id, reason, fields))
        run_scripts(self.redis, calls)
        return ids

    def get(self, entry_id: str) -> DeadLetter | None:
        fields = self.redis.hgetall(self.keys.dead_letter(entry_id))
        if not fields:
            return None
        fields["payload"] = json.loads(fields["payload"])
        fields["attempts"] = int(fields["attempts"])
        return fields

    def page(self, *, status: str = OPEN, reason: str | None = None, after: str | None = None, limit: int = 50):
        """Entries oldest first, `limit` at a time; returns (entries, cursor of the next page)."""
        index = self.keys.dead_letter_index(OPEN if status == OPEN else "closed", reason if status == OPEN else None)
        start = f"({after}" if after else "-"
        ids = self.redis.zrangebylex(index, start, "+", start=0, num=limit + 1)
        entries = [e for e in (self.get(i) for i in ids[:limit]) if e is not None]
        if status != OPEN:
            # Closed entries share one index; a filtered page of them may come back short.
            entries = [e for e in entries if e["status"] == status and (reason is None or e["reason"] == reason)]
        cursor = ids[limit - 1] if len(ids) > limit else None
        return entries, cursor

    def close(self, entry: DeadLetter, status: str, **fields: Any) -> bool:
        fields = {"status": status, "closed_at": _now(), **fields}
        script, keys, args = self._call_args("close", entry["id"], entry["reason"], fields)
        return bool(script(keys=keys, args=args))

    def record_attempt(self, entry: DeadLetter, detail: str) -> None:
        self.redis.hset(
            self.keys.dead_letter(entry["id"]), mapping={"attempts": entry["attempts"] + 1, "last_error": detail}
        )
