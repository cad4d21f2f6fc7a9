"""The dead-letter queue as operators use it: look, re-drive after a fix, or discard with a reason."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from shared.errors import Problem

from ..adapters.dead_letters import DISCARDED, OPEN, REDRIVEN, DeadLetter
from ..publishing.sender import OUTCOMES_REFUSED, PUBLISHER_SOURCE
from .ingest import ingest

if TYPE_CHECKING:  # bootstrap imports the services it wires
    from ..bootstrap import Inventory


def _open_entry(inventory: Inventory, entry_id: str) -> DeadLetter:
    entry = inventory.dead_letters.get(entry_id)
    if entry is None:
        raise Problem(404, f"no dead letter {entry_id}", type_slug="unknown-dead-letter")
    if entry["status"] != OPEN:
        raise Problem(409, f"dead letter {entry_id} is already {entry['status']}", type_slug="dead-letter-closed")
    return entry


def redrive(inventory: Inventory, entry_id: str, *, correlation_id: str | None = None) -> DeadLetter | None:
    """Feed the stored event through ingest again. Closed if it now applies (or was a
    duplicate or stale); otherwise it stays open with the new error and a 422 says why.
    A batch of outcomes the Salesforce system API refused is re-driven by publishing its SKUs again."""
    entry = _open_entry(inventory, entry_id)
    if entry["source"] == PUBLISHER_SOURCE and entry["reason"] == OUTCOMES_REFUSED:
        return _republish(inventory, entry)
    replay = entry["payload"].get("replay") if isinstance(entry["payload"], dict) else None
    if replay:
        # A system API's record (e.g. an SAP item with no mapped location), not a canonical event:
        # only that API can map it again, after the fix; then discard this entry with a reason.
        raise Problem(
            409,
            f"dead letter {entry_id} holds a {entry['source']} record, not an event: fix the cause, "
            f"replay it with {replay}, then discard this entry",
            type_slug="redrive-at-source",
            replay=replay,
        )
    result = _ingest_without_dead_lettering(inventory, entry["payload"], correlation_id)
    if result["outcome"] == "dead_lettered":
        inventory.dead_letters.record_attempt(entry, f"{result['reason']}: {result['detail']}")
        raise Problem(
            422,
            f"still cannot be applied: {result['reason']}",
            type_slug="redrive-failed",
            reason=result["reason"],
            errors={"payload": result["detail"]},
        )
    inventory.dead_letters.close(entry, REDRIVEN, outcome=result["outcome"])
    return inventory.dead_letters.get(entry_id)


def _republish(inventory: Inventory, entry: DeadLetter) -> DeadLetter | None:
    """Put the refused batch's SKUs back on the change stream: the publisher computes their values
    anew and sends them (the old values would be stale by now, and the fence would skip them)."""
    outcomes = entry["payload"].get("outcomes") if isinstance(entry["payload"], dict) else None
    skus = sorted({outcome["sku"] for outcome in outcomes or () if isinstance(outcome, dict) and outcome.get("sku")})
    if not skus:
        raise Problem(422, f"dead letter {entry['id']} names no SKU to publish again", type_slug="redrive-failed")
    inventory.changes.republish(skus, time.time_ns() // 1_000_000)
    if not inventory.dead_letters.close(entry, REDRIVEN, outcome="republished"):
        raise Problem(409, f"dead letter {entry['id']} was closed meanwhile", type_slug="dead-letter-closed")
    return inventory.dead_letters.get(entry["id"])


def _ingest_without_dead_lettering(inventory: Inventory, payload: object, correlation_id: str | None) -> dict[str, Any]:
    outcome = ingest(inventory, [payload], correlation_id=correlation_id, dead_letter=False)
    return outcome["not_applied"][0] if outcome["not_applied"] else {"outcome": "applied"}


def discard(inventory: Inventory, entry_id: str, reason: str) -> DeadLetter | None:
    entry = _open_entry(inventory, entry_id)
    if not inventory.dead_letters.close(entry, DISCARDED, discard_reason=reason):
        raise Problem(409, f"dead letter {entry_id} was closed meanwhile", type_slug="dead-letter-closed")
    return inventory.dead_letters.get(entry_id)
