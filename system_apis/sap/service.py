"""What the SAP system API does: material documents → canonical events (pushed by business
events, or replayed on demand), stock sync as stock.counted snapshots with drift, live stock reads."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from process_apis.inventory.contract import InventoryClient, empty_outcome
from shared import metrics
from shared.errors import Problem

from .client import SapODataClient
from .document_gaps import DocumentGaps
from .document_reads import DocumentReads, fetch_reversal_keys
from .documents import MaterialDocument, StockRecord, odata_literal
from .locations import LocationMap
from .movements import SOURCE, MappedItem, map_document
from .settings import SapSettings
from .stock import StockTable, counted_event, drift, iso
from .webhook import (
    CONSUMED_TYPES,
    MATERIAL_DOCUMENT_CANCELED,
    CloudEvent,
    IssuerKeys,
    material_document_key,
)

logger = logging.getLogger(__name__)

STOCK_ENTITY_SET = "API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod"
#: Materials named in one $filter, so the URL stays well below SAP's length limits.
MATERIALS_PER_QUERY = 40
REDELIVERY_SECONDS = "10"

BUSINESS_EVENTS = metrics.counter("sap_business_events_total", "SAP business events by outcome", ("outcome",))
#: Labelled by the consumed types and "other": a made-up type cannot grow /metrics.
EVENT_TYPES = metrics.counter(
    "sap_business_event_types_total", "SAP business events received, by CloudEvent type (or other)", ("type",)
)
ITEMS = metrics.counter("sap_document_items_total", "Material document items by outcome", ("outcome",))


@dataclass
class SapGateway:
    """The wired parts the services work with (see app.py)."""

    settings: SapSettings
    sap: SapODataClient
    documents: DocumentReads
    inventory: InventoryClient
    locations: LocationMap
    #: SAP's document numbers the gateway has (None: not tracked, e.g. the sap-sync command).
    gaps: DocumentGaps | None = None
    #: The signing keys of the issuer of the broker's bearer tokens (SAP_WEBHOOK_AUTH=oauth only).
    issuer_keys: IssuerKeys | None = None


# -- material documents ---------------------------------------------------------------------
def _dead_letter_entry(document: MaterialDocument, mapped: MappedItem) -> dict:
    item = mapped.item
    return {
        "reason": mapped.reason,
        "detail": mapped.detail,
        "source": SOURCE,
        "payload": {
            "source": SOURCE,
            "event_id": mapped.event_id,
            "material_document": {"year": document.year, "number": document.number, "item": item.item},
            "movement_type": item.movement_type,
            "sap_item": item.record,
            # Fix the cause (e.g. SAP_LOCATION_MAP), then replay the document through this API.
            "replay": f"POST /sap/v1/material-documents/{document.year}/{document.number}/replay",
        },
    }


def ingest_material_document(system: SapGateway, year: str, number: str) -> dict:
    """Read one material document from SAP and hand every item to the process API (see
    apply_material_document)."""
    try:
        document = system.documents.read(year, number)
    except Problem as problem:
        if problem.status == 404:
            # SAP announced the document; not finding it is a lag or a replica, not a bad event.
            raise _not_readable_yet(
                f"material document {year}/{number} is not readable in SAP yet: {problem.detail}",
                upstream_status=404,
            ) from None
        raise
    return apply_material_document(system, document, year=year, number=number)


def apply_material_document(system: SapGateway, document: MaterialDocument, *, year: str, number: str) -> dict:
    """Hand every item of a document read from SAP to the process API: its events, or a dead letter
    with the reason it cannot be mapped. Returns only when each item is accounted for, and then counts
    the document's number as arrived (closing its gap); raises a Problem otherwise. Safe to repeat:
    event ids make a second delivery a duplicate."""
    mapped = map_document(document, system.locations)
    events = [event for item in mapped for event in item.events]
    rejected = [item for item in mapped if item.rejected]
    key = f"sap:{year}:{number}"
    # No Idempotency-Key on a document's events: their ids (sap:year:document:item) already make a
    # redelivery count once, and a stored answer per document would cost two more Redis round trips
    # (a quarter of a push's work) and ~0.5 KB of Redis for IDEMPOTENCY_TTL_SECONDS, per document.
    outcome = system.inventory.send_events(events, key_prefix=None) if events else empty_outcome()
    ids = (
        system.inventory.dead_letter(
            [_dead_letter_entry(document, item) for item in rejected], key_prefix=f"{key}:dead-letters"
        )
        if rejected
        else []
    )
    counterparts = sum(1 for item in mapped if item.counterpart)
    for name, count in (
        ("mapped", len(mapped) - len(rejected) - counterparts),
        ("rejected", len(rejected)),
        ("counterpart", counterparts),
    ):
        if count:
            ITEMS.labels(name).inc(count)
    if system.gaps is not None:
        system.gaps.arrived(year, number, now=time.time())
    return {
        "material_document": {"year": document.year or year, "number": document.number or number},
        "document_items": len(mapped),
        "counterpart_items": counterparts,
        "events": len(events),
        **{name: outcome[name] for name in ("applied", "duplicate", "stale")},
        "dead_lettered": outcome["dead_lettered"] + len(rejected),
        "not_applied": outcome["not_applied"],
        "rejected_items": [
            {
                "item": item.item.item,
                "event_id": item.event_id,
                "movement_type": item.item.movement_type,
                "reason": item.reason,
                "detail": item.detail,
                "dead_letter_id": entry_id,
            }
            for item, entry_id in zip(rejected, ids)
        ],
    }


def receive_business_event(system: SapGateway, event: CloudEvent) -> tuple[dict, int]:
    """A pushed business event: 200 once every item of its material document (of a Canceled event: of
    the reversal documents SAP posted for it) is accepted or dead-lettered; 202 for event types this API
    does not consume; a 503 Problem (the broker redelivers) when SAP or the process API could not
    complete it."""
    EVENT_TYPES.labels(event.type if event.type in CONSUMED_TYPES else "other").inc()
    if event.type not in CONSUMED_TYPES:
        BUSINESS_EVENTS.labels("ignored").inc()
        logger.info(
            "business event ignored: not a material document creation or cancellation",
            extra={"cloud_event_id": event.id, "cloud_event_type": event.type, "cloud_event_source": event.source},
        )
        return {"status": "ignored", "cloud_event_id": event.id, "type": event.type}, 202
    year, number = material_document_key(event)
    try:
        if event.type == MATERIAL_DOCUMENT_CANCELED:
            result = apply_cancellation(system, year, number)
        else:
            result = ingest_material_document(system, year, number)
    except Problem as problem:
        BUSINESS_EVENTS.labels("redeliver").inc()
        logger.warning(
            "business event not processed; asking for redelivery",
            extra={
                "cloud_event_id": event.id,
                "cloud_event_type": event.type,
                "material_document": f"{year}/{number}",
                "cause_status": problem.status,
                "cause": problem.detail,
            },
        )
        raise Problem(
            503,
            f"material document {year}/{number} was not fully processed; redeliver: {problem.detail}",
            type_slug="business-event-not-processed",
            headers={"Retry-After": problem.headers.get("Retry-After") or REDELIVERY_SECONDS},
            upstream=problem.extensions.get("upstream"),
            upstream_status=problem.extensions.get("upstream_status", problem.status),
        ) from None
    BUSINESS_EVENTS.labels("processed").inc()
    return {"status": "processed", "cloud_event_id": event.id, "type": event.type, **result}, 200


def apply_cancellation(system: SapGateway, year: str, number: str) -> dict:
    """A cancelled material document: S/4 cancels by posting a reversal document (its own number, movement
    type + 1, each item naming the item it reverses) and raises Created for it too. So the reversal
    documents are read and applied like any pushed document: their items' event ids
    (sap:year:reversal:item) are the ones the reversal's own Created event yields, and the process API
    applies each once, whichever of the two events comes first."""
    reversals = fetch_reversal_keys(system.sap, year, number)
    if not reversals:
        # The Canceled event names a document SAP shows no reversal of yet: a lag, not a bad event.
        raise _not_readable_yet(f"no reversal document of {year}/{number} is readable in SAP yet")
    return {
        "cancelled_document": {"year": year, "number": number},
        "reversal_documents": [ingest_material_document(system, *key) for key in reversals],
    }


# -- stock ----------------------------------------------------------------------------------
def _filter(plants: set[str] | None, materials: list[str] | None) -> str | None:
    clauses = []
    if plants:
        clauses.append(" or ".join(f"Plant eq {odata_literal(p)}" for p in sorted(plants)))
    if materials:
        clauses.append(" or ".join(f"Material eq {odata_literal(m)}" for m in materials))
    if not clauses:
        return None
    return " and ".join(f"({clause})" for clause in clauses) if len(clauses) > 1 else clauses[0]


def stock_records(
    sap: SapODataClient,
    *,
    plants: set[str] | None = None,
    materials: list[str] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[StockRecord]:
    """Every A_MatlStkInAcctMod record of the plants and materials (all when None), page by page;
    `progress(records in this page, records expected so far)` after each page. The filters are
    applied here too, so a server that ignores $filter gives the same answer."""
    material_groups = (
        [materials[i : i + MATERIALS_PER_QUERY] for i in range(0, len(materials), MATERIALS_PER_QUERY)]
        if materials
        else [None]
    )
    wanted = set(materials or ())
    expected: int | None = 0
    for group in material_groups:
        expression = _filter(plants, group)
        first = True
        for page in sap.pages(STOCK_ENTITY_SET, {"$filter": expression} if expression else None):
            if first:
                expected = expected + page.total if expected is not None and page.total is not None else None
                first = False
            if progress:
                progress(len(page.records), expected)
            for raw in page.records:
                record = StockRecord.from_odata(raw)
                if (plants and record.plant not in plants) or (wanted and record.material not in wanted):
                    continue
                yield record


def _scope(locations: LocationMap, plants: list[str] | None) -> tuple[set[str] | None, set[str]]:
    """(plants to read, locations whose positions the read is complete for). A location fed by
    several plants is only complete when all of them are read, so the plants are widened."""
    if not plants:
        return None, locations.locations()
    in_scope = locations.locations_of(plants)
    return set(plants) | locations.plants_of(in_scope), in_scope


def read_stock_table(
    system: SapGateway, *, plants: set[str] | None, materials: list[str] | None, progress=None
) -> StockTable:
    table = StockTable()
    for record in stock_records(system.sap, plants=plants, materials=materials, progress=progress):
        table.add(record, system.locations)
    return table


def sync_stock(
    system: SapGateway,
    *,
    plants: list[str] | None = None,
    materials: list[str] | None = None,
    report_drift: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> dict:
    """Read SAP's whole stock table (or the plants/materials named) and send one stock.counted per
    position as of the read time; positions the gateway holds that SAP no longer lists count 0."""
    read_at = datetime.now(UTC)
    read_plants, in_scope = _scope(system.locations, plants)
    table = read_stock_table(system, plants=read_plants, materials=materials, progress=progress)
    skus = set(materials or ()) | {sku for sku, _ in table.positions}
    gateway = {key: fields for key, fields in system.inventory.positions(skus).items() if key[1] in in_scope}
    for sku, location in gateway:
        table.count(sku, location)  # SAP lists no stock there any more: it counts 0
    counts = [count for key, count in sorted(table.positions.items()) if key[1] in in_scope]
    whole = [count for count in counts if count.whole]
    events = [counted_event(count, read_at) for count in whole]
    outcome = system.inventory.send_events(events, key_prefix=f"sap-sync:{iso(read_at)}") if events else empty_outcome()
    fractional = [count for count in counts if not count.whole]
    ids = (
        system.inventory.dead_letter(
            [
                {
                    "reason": "non_integer_quantity",
                    "detail": "SAP's stock of this position is not a whole base unit",
                    "source": SOURCE,
                    "payload": counted_event(count, read_at),
                }
                for count in fractional
            ],
            key_prefix=f"sap-sync:{iso(read_at)}:dead-letters",
        )
        if fractional
        else []
    )
    result = {
        "read_at": iso(read_at),
        "records_read": table.records,
        "positions": len(counts),
        "events": {
            "sent": len(events),
            **{name: outcome[name] for name in ("applied", "duplicate", "stale")},
            "dead_lettered": outcome["dead_lettered"] + len(ids),
        },
        "not_applied": outcome["not_applied"],
        "skipped_records": dict(table.skipped),
        "unmapped": table.unmapped_list(),
    }
    if report_drift:
        result["drift"] = drift(counts, gateway)
    logger.info("SAP stock sync done", extra={k: result[k] for k in ("read_at", "records_read", "positions")})
    return result


def read_stock(system: SapGateway, *, sku: str, location: str | None = None) -> dict:
    """SAP's stock of one material right now, per gateway location (or at one location)."""
    if location is not None and location not in system.locations.locations():
        raise Problem(
            404, f"location {location} is not mapped to any SAP plant/storage location", type_slug="unmapped-location"
        )
    plants = system.locations.plants_of([location]) if location else None
    as_of = datetime.now(UTC)
    table = read_stock_table(system, plants=plants, materials=[sku])
    if location is not None:
        table.count(sku, location)
    positions = [
        {"location": loc, **count.as_numbers()}
        for (_, loc), count in sorted(table.positions.items())
        if location is None or loc == location
    ]
    return {"sku": sku, "as_of": iso(as_of), "positions": positions, "unmapped": table.unmapped_list()}


def _not_readable_yet(detail: str, **extra) -> Problem:
    """SAP announced what it does not show yet: a lag or a replica, not a bad event, so the broker
    is asked to deliver again."""
    return Problem(
        503,
        detail,
        type_slug="material-document-not-readable",
        headers={"Retry-After": REDELIVERY_SECONDS},
        upstream="sap",
        **extra,
    )
