"""Which stores a shopper can collect from: web pickup stores within a radius, nearest first."""

from __future__ import annotations

from dataclasses import dataclass

from experience_apis.geo import distance_km

#: Most stores listed per SKU: the nearest few are what a product page shows.
MAX_PICKUP_STORES = 10


@dataclass(frozen=True)
class PickupStore:
    id: str
    name: str
    distance_km: float  # rounded to 0.1 km


def is_web_pickup_store(location: dict) -> bool:
    return (
        location.get("type") == "store"
        and "pickup" in (location.get("fulfilment_methods") or ())
        and "web" in (location.get("channels") or ())
    )


def nearby_pickup_stores(
    locations: list[dict], origin: tuple[float, float], radius_km: float, limit: int = MAX_PICKUP_STORES
) -> list[PickupStore]:
    """The web pickup stores with coordinates within `radius_km` of `origin`, nearest first (then by id)."""
    found = []
    for location in locations:
        if not is_web_pickup_store(location) or location.get("latitude") is None or location.get("longitude") is None:
            continue
        distance = distance_km(origin, (location["latitude"], location["longitude"]))
        if distance <= radius_km:
            found.append((distance, location["id"], location.get("name") or location["id"]))
    found.sort()
    return [PickupStore(store_id, name, round(distance, 1)) for distance, store_id, name in found[:limit]]
