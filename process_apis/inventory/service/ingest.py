"""Event ingest: validate each item alone, apply the valid ones, dead-letter the rest.

Every item gets an outcome (applied, duplicate, stale, dead_lettered) and nothing is
acknowledged before it is applied (and logged) or in the dead-letter queue with its reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Container
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError

from shared import metrics

from ..domain.events import InventoryEvent
from ..domain.ledger import Outcome
from .event_parsing import load_event

if TYPE_CHECKING:  # bootstrap imports the services it wires
    from ..bootstrap import Inventory

SCHEMA_INVALID = "schema_invalid"
NON_INTEGER_QUANTITY = "non_integer_quantity"
UNKNOWN_LOCATION = "unknown_location"
SNAPSHOT_TOO_OLD = "snapshot_before_journal_horizon"
FROM_FUTURE = "from_future"
#: Every reason ingest dead-letters an item with (a system API's own reasons come beside them).
DEAD_LETTER_REASONS = (SCHEMA_INVALID, NON_INTEGER_QUANTITY, UNKNOWN_LOCATION, FROM_FUTURE, SNAPSHOT_TOO_OLD)

EVENTS = metrics.counter("inventory_events_total", "Events by outcome", ("outcome",))
NEGATIVE = metrics.counter("inventory_negative_positions_total", "Positions an issue took below zero on hand")


def _invalid_reason(item: object, messages: dict[str, Any] | list[Any]) -> str:
    quantity = item.get("quantity") if isinstance(item, dict) else None
    if "quantity" in messages and isinstance(quantity, (float, str)) and not isinstance(quantity, bool):
        return NON_INTEGER_QUANTITY
    return SCHEMA_INVALID


def _validate(item: object, known_locations: Container[str], latest_ms: int) -> InventoryEvent | tuple[str, object]:
    if not isinstance(item, dict):
        return SCHEMA_INVALID, {"_schema": ["an event must be a JSON object"]}
    try:
        event = load_event(item)
    except ValidationError as error:
        return _invalid_reason(item, error.messages), error.messages
    if event.occurred_at_ms > latest_ms:
        latest = datetime.fromtimestamp(latest_ms / 1000, UTC).isoformat(timespec="seconds")
        return (
            FROM_FUTURE,
            f"occurred_at {event.occurred_at.isoformat()} is later than {latest}, the latest this gateway accepts",
        )
    unknown = [loc for loc in event.locations() if loc not in known_locations]
    if unknown:
        return UNKNOWN_LOCATION, f"unknown location(s): {', '.join(unknown)}"
    return event


def ingest(
    inventory: Inventory, items: list[Any], *, correlation_id: str | None = None, dead_letter: bool = True
) -> dict[str, Any]:
    """Apply what is valid; dead-letter the rest (or, when re-driving, only report it). Returns the
    count per outcome and the items not applied, as POST /events answers."""
    known_locations = inventory.catalogue.current().locations
    # The gateway's own wall clock decides what is "from the future": a count dated ahead of it would
    # set a watermark every later event falls behind. Redis's clock (TIME inside the apply script)
    # would be one clock for every worker, but the scripts receive items already validated here, and
    # the allowed skew covers workers' clocks drifting apart as it covers the source's.
    latest_ms = time.time_ns() // 1_000_000 + inventory.settings.max_clock_skew_seconds * 1000
    valid: list[tuple[int, InventoryEvent]] = []
    rejected: list[tuple[int, str, object]] = []
    for index, item in enumerate(items):
        checked = _validate(item, known_locations, latest_ms)
        if isinstance(checked, InventoryEvent):
            valid.append((index, checked))
        else:
            rejected.append((index, *checked))

    counts = {outcome.value: 0 for outcome in Outcome}
    not_applied: list[dict[str, Any]] = []
    applied = inventory.ledger.apply([event for _, event in valid]) if valid else []
    for (index, event), result in zip(valid, applied):
        if result.too_old:
            rejected.append((index, SNAPSHOT_TOO_OLD, "count is older than the oldest change still journalled"))
            continue
        counts[result.outcome.value] += 1
        if result.went_negative:
            NEGATIVE.inc(len(result.went_negative))
        if result.outcome is not Outcome.APPLIED:
            not_applied.append({"index": index, "event_id": event.event_id, "outcome": result.outcome.value})

    if rejected:
        entries = [
            (reason, detail if isinstance(detail, str) else json.dumps(detail), items[index], None)
            for index, reason, detail in rejected
        ]
        ids = (
            inventory.dead_letters.add_many(entries, correlation_id=correlation_id)
            if dead_letter
            else [None] * len(rejected)
        )
        for (index, reason, detail), entry_id in zip(rejected, ids):
            item = items[index]
            not_applied.append(
                {
                    "index": index,
                    "event_id": item.get("event_id") if isinstance(item, dict) else None,
                    "outcome": Outcome.DEAD_LETTERED.value,
                    "reason": reason,
                    "detail": detail,
                    **({"dead_letter_id": entry_id} if entry_id else {}),
                }
            )
        counts[Outcome.DEAD_LETTERED.value] = len(rejected)

    for outcome, count in counts.items():
        if count:
            EVENTS.labels(outcome).inc(count)
    not_applied.sort(key=lambda item: item["index"])
    return {"received": len(items), **counts, "not_applied": not_applied}
