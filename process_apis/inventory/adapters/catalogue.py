"""Locations and location groups in Redis, cached per process until their version changes."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from ..domain.locations import Catalogue, Location, LocationGroup
from .keys import Keys
from .versioned import VersionedCache


class CatalogueStore(VersionedCache[Catalogue]):
    def __init__(self, redis: Any, keys: Keys) -> None:
        super().__init__()
        self.redis = redis
        self.keys = keys

    @property
    def version_command(self) -> tuple[str, ...]:
        return ("GET", self.keys.catalogue_version)

    def _load(self, version: Any) -> Catalogue:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(self.keys.locations)
        pipe.hgetall(self.keys.location_groups)
        locations, groups = pipe.execute()
        return Catalogue(
            locations={key: _location(json.loads(value)) for key, value in locations.items()},
            groups={key: _group(json.loads(value)) for key, value in groups.items()},
        )

    def put_location(self, location: Location) -> bool:
        """Store a location; True when it was new."""
        created = self.redis.hset(self.keys.locations, location.id, json.dumps(asdict(location))) == 1
        self.redis.incr(self.keys.catalogue_version)
        return created

    def put_group(self, group: LocationGroup) -> bool:
        created = self.redis.hset(self.keys.location_groups, group.id, json.dumps(asdict(group))) == 1
        self.redis.incr(self.keys.catalogue_version)
        return created


def _location(data: dict) -> Location:
    return Location(
        **{**data, "channels": tuple(data["channels"]), "fulfilment_methods": tuple(data["fulfilment_methods"])}
    )


def _group(data: dict) -> LocationGroup:
    return LocationGroup(**{**data, "members": tuple(data["members"])})
