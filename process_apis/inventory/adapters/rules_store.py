"""The versioned rule set in Redis: one hash {version, document}, replaced by compare-and-set."""
from __future__ import annotations

import json

from .keys import Keys
from .scripts import Scripts


class RulesStore:
    def __init__(self, redis, keys: Keys, scripts: Scripts, parse) -> None:
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        self._parse = parse  # document dict -> domain RuleSet
        self._cached: tuple[str, dict, object] | None = None

    def current(self) -> tuple[int, dict, object]:
        """(version, document, RuleSet); re-parsed only when the version moved."""
        version = self.redis.hget(self.keys.rules, "version") or "0"
        if self._cached is None or self._cached[0] != version:
            document = json.loads(self.redis.hget(self.keys.rules, "document") or "{}")
            self._cached = (version, document, self._parse(document))
        return int(self._cached[0]), self._cached[1], self._cached[2]

    def replace(self, document: dict, expected_version: int) -> tuple[bool, int]:
        """Store a new document if the version is still `expected_version`. (stored?, version)."""
        accepted = "" if expected_version == 0 else str(expected_version)
        new_version = str(expected_version + 1)
        stored, found = self.scripts["compare_and_set"](
            keys=[self.keys.rules], args=["version", accepted, "version", new_version, "document", json.dumps(document)]
        )
        return bool(stored), int(new_version if stored else (found or 0))
