"""The web API's per-process cache of availability documents (WEB_AVAILABILITY_CACHE_SECONDS).

A document is fresh for `ttl` seconds. When it goes stale, the first request to ask again refreshes
it while the others keep getting the stale one — so a hot question is recomputed by one request per
`ttl`, not by every request that arrives meanwhile — but never for longer than `MAX_AGE_FACTOR` ×
`ttl` after it was made: past that (say the refresh failed), every request computes its own.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from .http_cache import Document

#: A stale document is served while another request refreshes it, up to this many lifetimes old.
MAX_AGE_FACTOR = 3


class DocumentCache:
    def __init__(self, ttl: float, size: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.size, self._clock = ttl, size, clock
        self._lock = threading.Lock()
        self._documents: OrderedDict[Hashable, tuple[Document, float]] = OrderedDict()
        self._refreshing: set[Hashable] = set()

    def get(self, question: Hashable) -> Document | None:
        """The document to answer `question` with, or None: then the caller computes it and `put`s it."""
        now = self._clock()
        with self._lock:
            found = self._documents.get(question)
            if found is None:
                return None
            document, made_at = found
            age = now - made_at
            if age < self.ttl:
                return document
            if age < MAX_AGE_FACTOR * self.ttl and question in self._refreshing:
                return document  # another request is making the new one
            self._refreshing.add(question)
            return None

    def put(self, question: Hashable, document: Document) -> None:
        with self._lock:
            self._refreshing.discard(question)
            self._documents[question] = (document, self._clock())
            self._documents.move_to_end(question)
            while len(self._documents) > self.size:
                oldest, _ = self._documents.popitem(last=False)
                self._refreshing.discard(oldest)
