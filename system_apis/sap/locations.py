"""Which gateway location an SAP plant/storage location is: the one translation of SAP's
organisational units, read from SAP_LOCATION_MAP (JSON, or @path to a JSON file)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.config import text_or_file

#: The process API's identifier rule (no braces: they would break Redis hash tags).
LOCATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")


@dataclass(frozen=True)
class LocationMap:
    """`{"PLANT/SLOC": "LOCATION"}` entries; a bare `"PLANT"` key maps every storage location of that
    plant not listed on its own (including stock kept at plant level, without a storage location)."""

    by_storage_location: dict[tuple[str, str], str] = field(default_factory=dict)
    by_plant: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str | None) -> LocationMap:
        """Parse the SAP_LOCATION_MAP setting; None or blank gives the empty map."""
        if raw is None or not raw.strip():
            return cls()
        text = text_or_file(raw.strip())
        try:
            document = json.loads(text)
        except ValueError as error:
            raise ValueError(f"SAP_LOCATION_MAP is not valid JSON: {error}") from None
        if not isinstance(document, dict):
            raise ValueError('SAP_LOCATION_MAP must be a JSON object {"PLANT/SLOC": "LOCATION_ID"}')
        by_sloc: dict[tuple[str, str], str] = {}
        by_plant: dict[str, str] = {}
        for key, location in document.items():
            if not isinstance(location, str) or not LOCATION_ID.match(location):
                raise ValueError(f"SAP_LOCATION_MAP[{key!r}]: {location!r} is not a valid location id")
            plant, _, sloc = key.strip().partition("/")
            if not plant:
                raise ValueError(f"SAP_LOCATION_MAP key {key!r} must be PLANT/SLOC or PLANT")
            if sloc:
                by_sloc[(plant, sloc)] = location
            else:
                by_plant[plant] = location
        return cls(by_sloc, by_plant)

    def __bool__(self) -> bool:
        return bool(self.by_storage_location or self.by_plant)

    def location(self, plant: str | None, storage_location: str | None) -> str | None:
        """The gateway location of a plant/storage location, or None when it is not mapped."""
        if not plant:
            return None
        return self.by_storage_location.get((plant, storage_location or "")) or self.by_plant.get(plant)

    def locations(self) -> set[str]:
        return set(self.by_storage_location.values()) | set(self.by_plant.values())

    def plants(self) -> set[str]:
        return {plant for plant, _ in self.by_storage_location} | set(self.by_plant)

    def plants_of(self, locations: Iterable[str]) -> set[str]:
        """Every plant with stock that counts towards one of `locations`."""
        wanted = set(locations)
        return {plant for (plant, _), loc in self.by_storage_location.items() if loc in wanted} | {
            plant for plant, loc in self.by_plant.items() if loc in wanted
        }

    def locations_of(self, plants: Iterable[str]) -> set[str]:
        """Every location that stock of one of `plants` counts towards."""
        wanted = set(plants)
        return {loc for (plant, _), loc in self.by_storage_location.items() if plant in wanted} | {
            loc for plant, loc in self.by_plant.items() if plant in wanted
        }
