"""The inventory process API's published contract, the one module the tiers above it import: the
id rule, the canonical event vocabulary, and the client that calls its REST API through the tier
client. Every write carries an Idempotency-Key or is safe to resend by content (event ids), so the
tier client may retry it and a repeat replays the first answer; the experience APIs pass a key on
for a caller whose own write may go without one (a release, an extension), and then the tier client
sends it once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from shared.auth import tier_api_key
from shared.config import SharedSettings, optional_text, setting
from shared.errors import Problem
from shared.idempotency import REPLAYED_HEADER
from shared.tier_client import TierClient, tier_options
from shared.validators import printable

from .domain.events import EventType
from .domain.identifiers import IDENTIFIER, IDENTIFIER_RULE, is_identifier

__all__ = [
    "IDENTIFIER",
    "IDENTIFIER_RULE",
    "OUTCOMES",
    "EventType",
    "InventoryClient",
    "ProcessApiSettings",
    "empty_outcome",
    "idempotency_key",
    "is_identifier",
    "process_tier",
]

EVENTS = "/inventory/v1/events"
DEAD_LETTERS = "/inventory/v1/dead-letters"
AVAILABILITY = "/inventory/v1/availability"
RESERVATIONS = "/inventory/v1/reservations"
LOCATIONS = "/inventory/v1/locations"
MAX_BATCH = 1000
MAX_SKUS_PER_READ = 100
#: The process API's largest location list per availability read.
MAX_LOCATIONS_PER_READ = 100
#: The longest detail a dead letter takes (POST /dead-letters).
MAX_DEAD_LETTER_DETAIL = 2000
OUTCOMES = ("applied", "duplicate", "stale", "dead_lettered")


@dataclass(frozen=True)
class ProcessApiSettings(SharedSettings):
    """What a tier above the process API needs to know of it: where it is, and the longest reservation it
    grants (a channel caps its own lifetimes by it, so the process API never refuses one)."""

    process_api_url: str | None = setting(
        "INVENTORY_PROCESS_URL",
        None,
        "Base URL of the inventory process API, for a system or experience API served "
        "on its own (split shape); `serve` calls its own in-process",
        optional_text,
    )
    reservation_max_ttl_seconds: int = setting(
        "RESERVATION_MAX_TTL_SECONDS", 14400, "Longest reservation lifetime a request may ask for", int
    )


def idempotency_key(prefix: str, body) -> str:
    """`prefix` plus a digest of the body: a retry of the same body replays the stored answer, and a
    different body (e.g. after the location map changed) is a new request, not a 422 conflict."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"{prefix}:{digest[:32]}"[:255]


def _batches(items: list, size: int = MAX_BATCH) -> Iterable[tuple[int, list]]:
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


def empty_outcome() -> dict:
    return {"received": 0, **{outcome: 0 for outcome in OUTCOMES}, "not_applied": []}


class InventoryClient:
    """What the tiers above ask of the inventory process API: events and dead letters in; positions,
    locations and availability out; reservations (make, read, page through, amend, extend, release,
    fulfil). Channel policy (which channel, whose keys, what a 404 means) stays with the caller."""

    def __init__(self, tier: TierClient) -> None:
        self.tier = tier

    def send_events(
        self, events: list[dict], *, key_prefix: str | None, on_batch: Callable[[int], None] | None = None
    ) -> dict:
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
                raise Problem(
                    502,
                    f"the inventory process API accounted for {accounted} of {len(batch)} events",
                    type_slug="process-api-incomplete",
                    upstream=self.tier.name,
                )
            total["received"] += len(batch)
            for outcome in OUTCOMES:
                total[outcome] += int(answer[outcome])
            total["not_applied"] += [{**item, "index": item["index"] + start} for item in answer.get("not_applied", [])]
            if on_batch:
                on_batch(len(batch))
        return total

    def dead_letter(self, entries: list[dict], *, key_prefix: str) -> list[str]:
        """Put items this API cannot turn into events into the process API's dead-letter queue,
        each `{reason, detail, payload}`; their dead-letter ids, in order. A detail quoting the source system's
        values goes with its control characters escaped and cut to fit, as the queue refuses them (and the
        item would never be dead-lettered)."""
        ids: list[str] = []
        entries = [{**entry, "detail": printable(entry["detail"])[:MAX_DEAD_LETTER_DETAIL]} for entry in entries]
        for _, batch in _batches(entries):
            body = {"dead_letters": batch}
            answer = self.tier.request(
                "POST", DEAD_LETTERS, json=body, idempotency_key=idempotency_key(key_prefix, body)
            ).json()
            batch_ids = answer.get("dead_letter_ids") or []
            if len(batch_ids) != len(batch):
                raise Problem(
                    502,
                    f"the inventory process API dead-lettered {len(batch_ids)} of {len(batch)} items",
                    type_slug="process-api-incomplete",
                    upstream=self.tier.name,
                )
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
                    name: position.get(name, 0) for name in ("on_hand", "quality_inspection", "blocked", "in_transit")
                }
        return positions

    # -- the network and its availability ----------------------------------------------------
    def locations(self) -> list[dict]:
        """Every location of the network, with its type, channels, fulfilment methods and coordinates."""
        return self.tier.request("GET", LOCATIONS).json()

    def location(self, location_id: str) -> dict:
        """One location; the process API's 404 problem (unknown-location) when there is none."""
        return self.tier.request("GET", f"{LOCATIONS}/{location_id}").json()

    def availability(
        self,
        *,
        skus: list[str],
        locations: list[str] | None = None,
        location_group: str | None = None,
        channel: str | None = None,
        include: str | None = None,
    ) -> dict:
        """`channel`'s availability of `skus`: at `locations` (`positions`; None: every location, an
        empty list: none, without a call) or in `location_group` (`groups`); `include="incoming"` adds
        each position's shipments on their way (ETAs). Many locations are read in as many calls as the
        process API's location limit asks for, and their positions joined into one answer."""
        params = {"sku": skus, "location_group": location_group, "channel": channel, "include": include}
        params = {name: value for name, value in params.items() if value is not None}
        if locations is None:
            return self.tier.request("GET", AVAILABILITY, params=params).json()
        answer: dict = {"as_of": None, "channel": channel, "positions": []}
        for _, batch in _batches(locations, MAX_LOCATIONS_PER_READ):
            part = self.tier.request("GET", AVAILABILITY, params={**params, "location": batch}).json()
            answer = {
                **part,
                "as_of": answer["as_of"] or part["as_of"],
                "positions": answer["positions"] + part["positions"],
            }
        return answer

    # -- reservations ------------------------------------------------------------------------
    def reserve(self, request: dict, *, idempotency_key: str) -> dict:
        """The reservation, 201; a Problem (409 with `shortfalls` when stock is short) otherwise."""
        return self.reserve_with_replay(request, idempotency_key=idempotency_key)[0]

    def reserve_with_replay(self, request: dict, *, idempotency_key: str) -> tuple[dict, bool]:
        """As `reserve`, and whether the process API replayed the reservation for a repeated
        Idempotency-Key (a caller passing the replay on to its own client)."""
        response = self.tier.request("POST", RESERVATIONS, json=request, idempotency_key=idempotency_key)
        return response.json(), response.headers.get(REPLAYED_HEADER) == "true"

    def reservation(self, reservation_id: str) -> dict:
        """One reservation; the process API's 404 problem when there is none."""
        return self.tier.request("GET", f"{RESERVATIONS}/{reservation_id}").json()

    def reservations(self, **query) -> dict:
        """A page of reservations (`items`, `next`): by `external_ref` or active at a `location`,
        filtered by `channel` and `status`, paged with `after` and `limit` (None values are left out)."""
        return self.tier.request(
            "GET", RESERVATIONS, params={name: value for name, value in query.items() if value is not None}
        ).json()

    def amend(self, reservation_id: str, *, idempotency_key: str, **changes) -> dict:
        """PATCH an active reservation: a new `external_ref` and/or `ttl_seconds` (from now)."""
        return self.tier.request(
            "PATCH", f"{RESERVATIONS}/{reservation_id}", json=changes, idempotency_key=idempotency_key
        ).json()

    def extend(self, reservation_id: str, ttl_seconds: int, *, idempotency_key: str | None = None) -> dict:
        """An active reservation now expires `ttl_seconds` from now."""
        return self.tier.request(
            "POST",
            f"{RESERVATIONS}/{reservation_id}/extend",
            json={"ttl_seconds": ttl_seconds},
            idempotency_key=idempotency_key,
        ).json()

    def release(
        self, reservation_id: str, lines: list[dict] | None = None, *, idempotency_key: str | None = None
    ) -> dict:
        """Release every unit (no `lines`) or the given units of the given lines."""
        body = {"lines": lines} if lines else {}
        return self.tier.request(
            "POST", f"{RESERVATIONS}/{reservation_id}/release", json=body, idempotency_key=idempotency_key
        ).json()

    def fulfil(self, reservation_id: str, *, idempotency_key: str) -> dict:
        return self.tier.request(
            "POST", f"{RESERVATIONS}/{reservation_id}/fulfil", idempotency_key=idempotency_key
        ).json()


def process_tier(settings: ProcessApiSettings, process_app=None) -> TierClient:
    """The tier client of the process API: in-process to `process_app` (the all-in-one gateway passes
    it), else over HTTP at INVENTORY_PROCESS_URL (the split shape). The UPSTREAM_* settings configure it."""
    options = tier_options(settings)
    if process_app is not None:
        return TierClient("inventory-process", app=process_app, **options, api_key=tier_api_key(settings))
    if not settings.process_api_url:
        raise ValueError(
            "INVENTORY_PROCESS_URL is not set: an API served on its own needs the inventory process "
            "API's base URL (e.g. http://127.0.0.1:8080)"
        )
    return TierClient(
        "inventory-process", settings.process_api_url, **options, api_key=tier_api_key(settings, over_http=True)
    )
