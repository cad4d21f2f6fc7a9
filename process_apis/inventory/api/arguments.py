"""Query-string arguments parsed once per schema and query string.

The hottest reads (availability) are asked the same few questions again and again, and
marshmallow's load was most of their cost; the parse of a query string depends on nothing else,
so its result is kept. Invalid query strings are not kept: they raise every time.
"""

from __future__ import annotations

import threading

import flask
from marshmallow import Schema

from shared.json_bodies import StrictJsonParser

MAX_ENTRIES = 4096


class MemoizedQueryParser(StrictJsonParser):
    """A webargs parser remembering what each query string parsed to; other locations as usual.
    Set as a blueprint's ARGUMENTS_PARSER before its `@blp.arguments` decorators run."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        super().__init__()
        self.max_entries = max_entries
        self._parsed: dict[tuple, dict] = {}
        self._lock = threading.Lock()

    def parse(self, argmap, req=None, *, location=None, validate=None, **kwargs):
        if location != "query" or validate is not None or not isinstance(argmap, Schema):
            return super().parse(argmap, req, location=location, validate=validate, **kwargs)
        key = (argmap, (req or flask.request).query_string)
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = super().parse(argmap, req, location=location, **kwargs)
            with self._lock:
                while len(self._parsed) >= self.max_entries:
                    del self._parsed[next(iter(self._parsed))]  # the oldest
                self._parsed[key] = parsed
        # A copy per request, lists included, so a view changing its arguments changes only its own.
        return {name: list(value) if isinstance(value, list) else value for name, value in parsed.items()}
