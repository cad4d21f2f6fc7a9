"""Locations (stores, distribution centres) and location groups with a sourcing strategy."""

from __future__ import annotations

from dataclasses import dataclass, field

LOCATION_TYPES = ("store", "dc")
FULFILMENT_METHODS = ("ship", "pickup")
SOURCING_STRATEGIES = ("priority", "most_available")


@dataclass(frozen=True)
class Location:
    id: str
    type: str
    name: str = ""
    region: str | None = None
    postal_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    channels: tuple[str, ...] = ()
    fulfilment_methods: tuple[str, ...] = ()

    def serves(self, channel: str | None) -> bool:
        return channel is None or not self.channels or channel in self.channels


@dataclass(frozen=True)
class LocationGroup:
    id: str
    members: tuple[str, ...]
    channel: str | None = None
    sourcing_strategy: str = "priority"
    fulfilment_method: str | None = None
    name: str = ""


@dataclass(frozen=True)
class Catalogue:
    """Every known location and group, as one immutable view."""

    locations: dict[str, Location] = field(default_factory=dict)
    groups: dict[str, LocationGroup] = field(default_factory=dict)

    def members_serving(self, group: LocationGroup, channel: str | None) -> list[Location]:
        """The group's members, in priority order, that serve the channel and the method."""
        members = []
        for location_id in group.members:
            location = self.locations.get(location_id)
            if location is None or not location.serves(channel):
                continue
            method = group.fulfilment_method
            if method and location.fulfilment_methods and method not in location.fulfilment_methods:
                continue
            members.append(location)
        return members
