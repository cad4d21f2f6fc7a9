"""Calls to the inventory process API through the tier client: canonical events and dead letters
in (in batches, each with an Idempotency-Key so a retry is safe), positions out."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable

from shared.errors import Problem
from shared.tier_client import TierClient

EVENTS = "/inventory/v1/events"
DEAD_LETTERS = "/inventory/v1/dead-letters"
AVAILABILITY = "/inventory/v1/availability"
MAX_BATCH = 1000
MAX_SKUS_PER_READ = 100
OUTCOMES = ("applied", "duplicate", "stale", "dead_lettered")


def idempotency_key(prefix: str, body) -> str:
    """`prefix` plus a digest of the body: a retry of the same body replays the stored answer, and a
    different body (e.g. after the location map changed) is a new request, not a 422 conflict."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"{prefix}:{digest[:32]}"[:255]


def _batches(items: list, size: int = MAX_BATCH) -> Iterable[tuple[int, list]]:
    for start in range(0, len(items), size):
        yield start, items[start:start + size]


def empty_outcome() -> dict:
    return {"received": 0, **{outcome: 0 for outcome in OUTCOMES}, "not_applied": []}


class InventoryClient:
    def __init__(self, tier: TierClient) -> None:
        self.tier = tier

    def send_events(self, events: list[dict], *, key_prefix: str | None,
                    on_batch: Callable[[int], None] | None = None) -> dict:
        """POST the events in batches of 1000; the summed outcome. Raises a Problem unless the
        process API gave every event an outcome (applied, duplicate, stale or dead-lettered).

        With a `key_prefix` each batch carries an Idempotency-Key, so the tier client retries it and
        a retry replays the first answer. Without one a batch is sent once: its event ids still make
        a later resend count once, and the caller answers for the retry (e.g. the broker redelivers)."""
        total = empty_outcome()
        for start, batch in _batches(events):
            body = {"events": batch}
            key = idempotency_key(key_prefix, body) if key_prefix else None
            answer = self.tier.request("POST", EVENTS, json=body, idempotency_key=key).json()
            accounted = sum(int(answer.get(outcome, 0)) for outcome in OUTCOMES)
            if answer.get("received") != len(batch) or accounted != len(batch):
                raise Problem(502, f"the inventory process API accounted for {accounted} of {len(batch)} events",
                              type_slug="process-api-incomplete", upstream=self.tier.name)
            total["received"] += len(batch)
            for outcome in OUTCOMES:
                total[outcome] += int(answer[outcome])
            total["not_applied"] += [{**item, "index": item["index"] + start} for item in answer.get("not_applied", [])]
            if on_batch:
                on_batch(len(batch))
        return total

    def dead_letter(self, entries: list[dict], *, key_prefix: str) -> list[str]:
        """Put items this API cannot turn into events into the process API's dead-letter queue,
        each `{reason, detail, payload}`; their dead-letter ids, in order."""
        ids: list[str] = []
        for _, batch in _batches(entries):
            body = {"dead_letters": batch}
            answer = self.tier.request("POST", DEAD_LETTERS, json=body,
                                       idempotency_key=idempotency_key(key_prefix, body)).json()
            batch_ids = answer.get("dead_letter_ids") or []
            if len(batch_ids) != len(batch):
                raise Problem(502, f"the inventory process API dead-lettered {len(batch_ids)} of {len(batch)} items",
                              type_slug="process-api-incomplete", upstream=self.tier.name)
            ids += batch_ids
        return ids

    def positions(self, skus: Iterable[str]) -> dict[tuple[str, str], dict]:
        """The gateway's stock fields of every position of `skus` (every location holding them)."""
        skus = sorted(set(skus))
        positions: dict[tuple[str, str], dict] = {}
        for _, batch in _batches(skus, MAX_SKUS_PER_READ):
            answer = self.tier.request("GET", AVAILABILITY, params={"sku": batch}).json()
            for position in answer.get("positions", []):
                positions[(position["sku"], position["location"])] = {
                    name: position.get(name, 0) for name in ("on_hand", "quality_inspection", "blocked", "in_transit")}
        return positions
