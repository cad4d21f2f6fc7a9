"""The versioned rule set in Redis: one hash {version, document}, replaced by compare-and-set."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..domain.rules import RuleSet
from .keys import Keys
from .scripts import Scripts
from .versioned import VersionedCache

#: (version, document, the rules it holds)
RulesVersion = tuple[int, dict[str, Any], RuleSet]


class RulesStore(VersionedCache[RulesVersion]):
    """`current()` is (version, document, RuleSet); re-parsed only when the version moved."""

    def __init__(self, redis: Any, keys: Keys, scripts: Scripts, parse: Callable[[dict[str, Any]], RuleSet]) -> None:
        super().__init__()
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        self._parse = parse  # document dict -> domain RuleSet

    @property
    def version_command(self) -> tuple[str, ...]:
        return ("HGET", self.keys.rules, "version")

    def _load(self, version: Any) -> RulesVersion:
        # Version and document are read together so they always belong to each other.
        version, document = self.redis.hmget(self.keys.rules, "version", "document")
        document = json.loads(document or "{}")
        return int(version or 0), document, self._parse(document)

    def replace(self, document: dict[str, Any], expected_version: int) -> tuple[bool, int]:
        """Store a new document if the version is still `expected_version`. (stored?, version)."""
        accepted = "" if expected_version == 0 else str(expected_version)
        new_version = str(expected_version + 1)
        stored, found = self.scripts["compare_and_set"](
            keys=[self.keys.rules], args=["version", accepted, "version", new_version, "document", json.dumps(document)]
        )
        return bool(stored), int(new_version if stored else (found or 0))
