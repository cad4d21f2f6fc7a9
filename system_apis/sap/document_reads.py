"""Material documents read from SAP for the webhook's pushes, several in one OData request when
pushes arrive together (group commit).

A push that finds fewer than MAX_READS_IN_FLIGHT reads of SAP in flight in its process reads its
document at once, by key. Pushes that arrive when that many are in flight wait for the first to
finish; then one of them reads all the waiting documents in one collection request (`$filter` by
their keys, `$expand` of the items). A gateway keeping up reads exactly as before, one document per
request and never waiting; one falling behind — SAP slow, a broker redelivering a backlog, a burst of
postings — pays one request for many documents, on its own side and on SAP's, and asks SAP for no
more than MAX_READS_IN_FLIGHT reads at once per process, so it catches up instead of falling further
behind.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from shared import metrics
from shared.errors import Problem

from .client import SapODataClient
from .documents import MaterialDocument, odata_literal

HEADERS = "API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader"
ITEMS = "to_MaterialDocumentItem"
ITEM_SET = "API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentItem"
#: Documents named in one read: the `$filter` stays near 1 KB, well within SAP's URL limits.
MAX_DOCUMENTS_PER_READ = 20
#: Reads of SAP in flight at once per process; pushes beyond them wait and are read together.
MAX_READS_IN_FLIGHT = 4

READS = metrics.counter("sap_document_reads_total", "OData reads of material documents (one or several each)")
DOCUMENTS = metrics.counter("sap_documents_read_total", "Material documents the pushes asked for")

Key = tuple[str, str]  # (MaterialDocumentYear, MaterialDocument)


def header_path(year: str, number: str) -> str:
    return f"{HEADERS}(MaterialDocumentYear={odata_literal(year)},MaterialDocument={odata_literal(number)})"


def fetch_material_document(sap: SapODataClient, year: str, number: str) -> MaterialDocument:
    """One document by key, with its items; SAP's 404 Problem when it has no such document."""
    return _document(sap, sap.get(header_path(year, number), {"$expand": ITEMS}))


def fetch_material_documents(sap: SapODataClient, keys: Iterable[Key]) -> dict[Key, MaterialDocument]:
    """The documents of `keys` SAP has, read in one collection request (absent ones are left out)."""
    numbers_by_year: dict[str, list[str]] = defaultdict(list)
    for year, number in keys:
        numbers_by_year[year].append(number)
    expression = " or ".join(
        f"(MaterialDocumentYear eq {odata_literal(year)} and ("
        + " or ".join(f"MaterialDocument eq {odata_literal(number)}" for number in numbers)
        + "))"
        for year, numbers in numbers_by_year.items()
    )
    documents = {}
    for page in sap.pages(HEADERS, {"$filter": expression, "$expand": ITEMS}):
        for header in page.records:
            document = _document(sap, header)
            documents[(document.year, document.number)] = document
    return documents


def fetch_numbered_between(sap: SapODataClient, year: str, first: str, last: str) -> list[MaterialDocument]:
    """The documents of `year` SAP has numbered `first` to `last` (10-digit numbers: ordered as text)."""
    expression = (
        f"MaterialDocumentYear eq {odata_literal(year)} and MaterialDocument ge {odata_literal(first)} "
        f"and MaterialDocument le {odata_literal(last)}"
    )
    pages = sap.pages(HEADERS, {"$filter": expression, "$expand": ITEMS})
    return [_document(sap, header) for page in pages for header in page.records]


def fetch_reversal_keys(sap: SapODataClient, year: str, number: str) -> list[Key]:
    """(year, number) of every reversal document SAP posted for items of document `number` of `year`
    (a Cancel posts one for the document, each CancelItem one for its item), oldest first."""
    expression = (
        f"ReversedMaterialDocumentYear eq {odata_literal(year)} and ReversedMaterialDocument eq {odata_literal(number)}"
    )
    select = {"$filter": expression, "$select": "MaterialDocumentYear,MaterialDocument"}
    keys = {
        (str(item.get("MaterialDocumentYear", "")), str(item.get("MaterialDocument", "")))
        for page in sap.pages(ITEM_SET, select)
        for item in page.records
    }
    return sorted(keys)


def newest_document_number(sap: SapODataClient, year: str) -> str | None:
    """The highest MaterialDocument SAP has numbered in `year` (None: none yet)."""
    answer = sap.get(
        HEADERS,
        {
            "$filter": f"MaterialDocumentYear eq {odata_literal(year)}",
            "$orderby": "MaterialDocument desc",
            "$top": 1,
            "$select": "MaterialDocumentYear,MaterialDocument",
        },
    )
    newest = answer.get("results") or []
    return str(newest[0].get("MaterialDocument", "")) if newest else None


def _document(sap: SapODataClient, header: dict) -> MaterialDocument:
    expanded = header.get(ITEMS)
    if isinstance(expanded, dict) and isinstance(expanded.get("results"), list) and not expanded.get("__next"):
        items = expanded["results"]
    elif isinstance(expanded, list):
        items = expanded
    else:  # deferred, or more items than SAP expands inline: read the navigation property in full
        year, number = str(header.get("MaterialDocumentYear", "")), str(header.get("MaterialDocument", ""))
        items = [record for page in sap.pages(f"{header_path(year, number)}/{ITEMS}") for record in page.records]
    return MaterialDocument.from_odata(header, items, sap.time_zone)


@dataclass(eq=False)
class _Wanted:
    """One document some pushes wait for; filled in by whichever of them reads it."""

    key: Key
    document: MaterialDocument | None = None
    failure: Exception | None = None
    waiters: int = 0  # pushes waiting for it
    taken: bool = False  # a read of it is in flight
    done: bool = False

    def result(self) -> MaterialDocument:
        if self.document is None:
            if self.failure is not None:  # one failure for every push in a read: no pile of their tracebacks
                raise self.failure.with_traceback(None)
            raise Problem(
                503,
                f"the read of material document {self.key[0]}/{self.key[1]} was cut short",
                type_slug="upstream-unavailable",
                headers={"Retry-After": "1"},
            )
        return self.document


class DocumentReads:
    """The group-commit reader of one process (see the module docstring): up to `max_reads` reads
    of SAP in flight at once, each push beyond them waiting for the next free one, which reads every
    document waiting (up to `max_documents`). A push waits for a free read no longer than
    `longest_wait` seconds (one request at the client's slowest), then asks for redelivery: the
    broker's own timeout is likely shorter, and a thread stuck waiting serves nothing else."""

    def __init__(
        self, sap: SapODataClient, *, max_documents: int = MAX_DOCUMENTS_PER_READ, max_reads: int = MAX_READS_IN_FLIGHT
    ) -> None:
        self.sap = sap
        self.max_documents, self.max_reads = max_documents, max_reads
        self.longest_wait = sap.timeouts.connect + sap.timeouts.read
        self._changed = threading.Condition()
        self._waiting: dict[Key, _Wanted] = {}  # oldest first
        self._in_flight = 0

    def read(self, year: str, number: str) -> MaterialDocument:
        """The document with its items; a Problem as the single read would raise it (SAP's 404 for
        a document it does not have, 503 when SAP is unavailable or the wait ran out)."""
        deadline = time.monotonic() + self.longest_wait
        with self._changed:
            wanted = self._waiting.setdefault((year, number), _Wanted((year, number)))
            wanted.waiters += 1
            try:
                while not wanted.done and (wanted.taken or self._in_flight >= self.max_reads):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._give_up(wanted)
                        raise Problem(
                            503,
                            f"material document {year}/{number} waited {self.longest_wait:.0f} s for a read of SAP",
                            type_slug="upstream-unavailable",
                            headers={"Retry-After": "1"},
                            upstream=self.sap.name,
                        )
                    self._changed.wait(remaining)
            finally:
                wanted.waiters -= 1
            if wanted.done:
                return wanted.result()
            batch = self._take(wanted)
            self._in_flight += 1
        try:
            self._read_together(batch)
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()
        return wanted.result()

    def _give_up(self, wanted: _Wanted) -> None:
        """The last push waiting for `wanted` leaves: do not spend a read's room on it."""
        if wanted.waiters == 1 and not wanted.taken and self._waiting.get(wanted.key) is wanted:
            del self._waiting[wanted.key]

    def _take(self, own: _Wanted) -> list[_Wanted]:
        """`own` and the longest-waiting others, up to max_documents, out of the waiting list."""
        del self._waiting[own.key]
        batch = [own, *islice(self._waiting.values(), self.max_documents - 1)]
        for wanted in batch:
            self._waiting.pop(wanted.key, None)
            wanted.taken = True
        return batch

    def _read_together(self, batch: list[_Wanted]) -> None:
        try:
            DOCUMENTS.inc(len(batch))
            found = {}
            if len(batch) > 1:
                READS.inc()
                found = fetch_material_documents(self.sap, (wanted.key for wanted in batch))
            for wanted in batch:
                # Not in a shared read's answer (or alone): read by key, exactly as a push on its own
                # would — SAP's 404 for a document it does not have, or one it spells another way.
                wanted.document = found.get(wanted.key) or self._read_one(wanted)
        except Exception as failure:  # every push in the read answers for it, as its own read would
            for wanted in batch:
                if wanted.document is None and wanted.failure is None:
                    wanted.failure = failure
        finally:
            for wanted in batch:
                wanted.done = True

    def _read_one(self, wanted: _Wanted) -> MaterialDocument | None:
        READS.inc()
        try:
            return fetch_material_document(self.sap, *wanted.key)
        except Problem as problem:
            if problem.status != 404:
                raise
            wanted.failure = problem
            return None
