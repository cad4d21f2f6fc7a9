"""The gap check: finds the material documents whose business-event push never arrived and reads
them from SAP, so a lost push is repaired without a stock sync.

Every SAP_GAP_CHECK_SECONDS one process (the holder of a lease in Redis) runs a round. Per year it
tracks (and the current one) it asks SAP for the year's newest document number, so even the last
document's lost push is noticed; numbers above the highest the gateway has become a gap. Then it reads
each gap that has waited a check interval (a push still on its way closes the gap first) in one
request by number range, hands what it finds to the process API as a push would, and counts the read.
A gap SAP_GAP_MAX_READS reads found still open holds numbers SAP never used, and is closed. So a lost
push is repaired within about three check intervals of its posting (README, "SAP").
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from shared import metrics
from shared.errors import Problem

from .document_gaps import DocumentGaps, document_number
from .document_reads import fetch_numbered_between, newest_document_number
from .service import SapGateway, apply_material_document

logger = logging.getLogger(__name__)

RECOVERED = metrics.counter(
    "sap_documents_recovered_total", "Material documents whose push never arrived, read by the gap check"
)
GAP_READS = metrics.counter("sap_document_gap_reads_total", "Reads of gaps in SAP's material-document numbers")
GAPS_CLOSED = metrics.counter(
    "sap_document_gaps_closed_total", "Gaps in SAP's document numbers closed unfilled after their last read"
)


def check_document_gaps(system: SapGateway, *, now: float | None = None) -> dict:
    """One round of the gap check (see the module docstring) at `now` (Unix seconds); what it did."""
    gaps = system.gaps
    assert gaps is not None  # bootstrap gives the gateway its gaps whenever it has a Redis
    now = time.time() if now is None else now
    report: dict = {"years": [], "gaps_read": 0, "documents_recovered": 0, "gaps_closed": []}
    current = datetime.fromtimestamp(now, UTC).year
    tracked = gaps.years()
    for year in tracked:
        if int(year) < current - 1:  # two years back: nothing of it can still arrive
            gaps.forget(year)
    for year in sorted({year for year in tracked if int(year) >= current - 1} | {str(current)}):
        report["years"].append(year)
        try:
            _check_year(system, gaps, year, now, report)
        except Problem as problem:  # SAP or the process API unavailable: the next round reads it again
            logger.warning(
                "SAP gap check stopped for this round",
                extra={"year": year, "cause_status": problem.status, "cause": problem.detail},
            )
    return report


def _check_year(system: SapGateway, gaps: DocumentGaps, year: str, now: float, report: dict) -> None:
    gaps.exists(year, newest_document_number(system.sap, year), now=now)
    for first, last in gaps.due(year, now=now):
        documents = fetch_numbered_between(system.sap, year, document_number(first), document_number(last))
        for document in documents:
            apply_material_document(system, document, year=document.year, number=document.number)
        GAP_READS.inc()
        RECOVERED.inc(len(documents))
        report["gaps_read"] += 1
        report["documents_recovered"] += len(documents)
        if documents:
            logger.info(
                "material documents whose push never arrived read from SAP",
                extra={"year": year, "documents": [document.number for document in documents]},
            )
        for closed_first, closed_last in gaps.counted(year, (first, last), now=now):
            GAPS_CLOSED.inc()
            closed = {"year": year, "first": document_number(closed_first), "last": document_number(closed_last)}
            report["gaps_closed"].append(closed)
            logger.info("gap in SAP's document numbers closed: SAP has no such documents", extra=closed)


def run(system: SapGateway, stop: threading.Event) -> None:
    """A round every SAP_GAP_CHECK_SECONDS while this process holds the lease, until `stop` is set."""
    interval = system.settings.sap_gap_check_seconds
    assert system.gaps is not None
    # The lease outlives a few rounds, so a holder that died is replaced within about that long.
    lease, held = system.gaps.lease(max(3 * interval, 10.0)), False
    try:
        while not stop.is_set():
            try:
                held = lease.extend() if held else lease.take() is not None
                if held:
                    check_document_gaps(system)
            except Exception:  # Redis away, a bug in one round: the next round tries again
                logger.exception("SAP gap check round failed")
            stop.wait(interval)
    finally:
        if held:
            lease.release()


def start_in_background(system: SapGateway) -> threading.Event:
    """Run the gap check in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run, args=(system, stop), name="sap-gap-check", daemon=True).start()
    return stop
