"""Operator repairs of one position: resetting the watermarks that keep its stale events out."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.errors import Problem

from ..domain.events import STOCK_FIELDS

if TYPE_CHECKING:  # bootstrap imports the services it wires
    from ..bootstrap import Inventory

log = logging.getLogger(__name__)


def _instant(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def reset_watermarks(
    inventory: Inventory, *, sku: str, location: str, fields: Sequence[str] = STOCK_FIELDS, reason: str, actor: str
) -> dict[str, Any]:
    """Clear the watermarks of `fields` of one position, so the next count of each applies and every
    delta applies again (see adapters/lua/reset_watermarks.lua). The quantities stay until that count
    (e.g. `sap-sync --material`) sets them. Audited in the log: who, which position, before and after.

    Clearing, not setting the watermark to now: a count from the future never happened, so deltas
    dated before the reset but arriving after it must still apply."""
    if location not in inventory.ledger.locations_holding([sku])[sku]:
        raise Problem(404, f"no position of {sku} at {location}", type_slug="unknown-position")
    at_ms = time.time_ns() // 1_000_000  # the gateway's clock, as ingest's from_future check reads it
    cut_ms = at_ms + inventory.settings.max_clock_skew_seconds * 1000
    found = inventory.ledger.reset_watermarks(sku, location, fields, at_ms=at_ms, cut_ms=cut_ms)
    result = {
        "sku": sku,
        "location": location,
        "reset_at": _instant(at_ms),
        "reason": reason,
        "watermarks": [
            {"field": field, "before": _instant(found.before[field]), "set_by": found.set_by[field], "after": None}
            for field in fields
        ],
        "horizon": {"before": _instant(found.horizon[0] or None), "after": _instant(found.horizon[1] or None)},
        "journal_entries_dropped": found.journal_entries_dropped,
    }
    log.warning(
        "position watermarks reset by %s: %s at %s",
        actor,
        sku,
        location,
        extra={"audit": "watermark_reset", "actor": actor, **result},
    )
    return result
