"""Postal code -> (latitude, longitude): where a shopper is, to find pickup stores near them.

The table comes from WEB_POSTAL_CODES (JSON `{"10115": [52.53, 13.38]}` inline, or `@path` to such a
file), else the bundled `postal_codes_de.json`: approximate centroids (about 0.01°, ~1 km, compiled
by hand from public maps) of 65 German postal codes in Berlin, Hamburg, Munich, Cologne, Frankfurt
and Kassel. Good enough to sort and bound stores within tens of kilometres, not for routing.

A code not in the table falls back to the known code sharing its longest prefix (at least
MIN_PREFIX characters: in Germany the first two digits are the postal region), so 10437 finds
Prenzlauer Berg's 10435 and 80999 finds Munich. A code sharing less than that is unknown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shared.config import text_or_file

BUNDLED = Path(__file__).with_name("postal_codes_de.json")
MIN_PREFIX = 2


@dataclass(frozen=True)
class Match:
    postal_code: str  # the table's code the coordinates belong to (the asked one when exact)
    latitude: float
    longitude: float

    @property
    def point(self) -> tuple[float, float]:
        return self.latitude, self.longitude


def normalise(postal_code: str) -> str:
    return postal_code.strip().upper()


class PostalCodes:
    """The table, and the longest-prefix look-up over it."""

    def __init__(self, table: dict[str, tuple[float, float]]) -> None:
        self.table = {normalise(code): point for code, point in table.items()}
        self._by_prefix: dict[str, str] = {}
        for code in sorted(self.table, reverse=True):  # the smallest code wins a shared prefix
            for length in range(MIN_PREFIX, len(code) + 1):
                self._by_prefix[code[:length]] = code

    def resolve(self, postal_code: str) -> Match | None:
        code = normalise(postal_code)
        found = (
            code
            if code in self.table
            else next(
                (
                    self._by_prefix[code[:n]]
                    for n in range(len(code), MIN_PREFIX - 1, -1)
                    if code[:n] in self._by_prefix
                ),
                None,
            )
        )
        if found is None:
            return None
        latitude, longitude = self.table[found]
        return Match(found, latitude, longitude)


def parse(text: str, origin: str) -> dict[str, tuple[float, float]]:
    """The table in `text` (JSON); ValueError naming `origin` when it is not a map of code -> [lat, lon]."""
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise ValueError(f"{origin} is not valid JSON: {error}") from None
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f'{origin} must be a non-empty JSON object like {{"10115": [52.53, 13.38]}}')
    table = {}
    for code, point in raw.items():
        valid = (
            isinstance(point, list)
            and len(point) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)
            and -90 <= point[0] <= 90
            and -180 <= point[1] <= 180
        )
        if not valid or not normalise(code):
            raise ValueError(f"{origin}: {code!r} must map to [latitude, longitude] in degrees, got {point!r}")
        table[code] = (float(point[0]), float(point[1]))
    return table


def load(setting: str | None) -> PostalCodes:
    """The table WEB_POSTAL_CODES configures (inline JSON or @path), else the bundled German one."""
    if setting:
        return PostalCodes(parse(text_or_file(setting), "WEB_POSTAL_CODES"))
    return PostalCodes(parse(BUNDLED.read_text(encoding="utf-8"), str(BUNDLED.name)))
