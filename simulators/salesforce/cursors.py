"""Query cursors: a SOQL result too big for one page is kept under a locator and handed out page
by page (`nextRecordsUrl` = `/services/data/vNN.N/query/<locator>-<offset>`), like Salesforce does."""

from __future__ import annotations

import threading
from collections import OrderedDict

from simulators.salesforce.errors import SalesforceError
from simulators.salesforce.ids import IdSequence

LOCATOR_PREFIX = "01g"


class QueryCursors:
    def __init__(self, *, page_size: int, max_open: int = 100) -> None:
        self.page_size, self._max_open = page_size, max_open
        self._lock = threading.Lock()
        self._open: OrderedDict[str, list[dict]] = OrderedDict()
        self._ids = IdSequence()

    def first_page(self, rows: list[dict], version_path: str) -> dict:
        locator = None
        if len(rows) > self.page_size:
            locator = self._ids.next_id(LOCATOR_PREFIX)[:15]
            with self._lock:
                self._open[locator] = rows
                while len(self._open) > self._max_open:  # Salesforce, too, closes the oldest cursors
                    self._open.popitem(last=False)
        return self._page(rows, 0, locator, version_path)

    def next_page(self, locator_and_offset: str, version_path: str) -> dict:
        locator, _, offset = locator_and_offset.partition("-")
        with self._lock:
            rows = self._open.get(locator)
        if rows is None or not offset.isdigit() or int(offset) >= len(rows):
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(rows, int(offset), locator, version_path)

    def clear(self) -> None:
        with self._lock:
            self._open.clear()

    def _page(self, rows: list[dict], offset: int, locator: str | None, version_path: str) -> dict:
        end = offset + self.page_size
        body = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[offset:end]}
        if not body["done"]:
            body["nextRecordsUrl"] = f"{version_path}/query/{locator}-{end}"
        return body
