"""Great-circle distance between two points given by latitude and longitude (haversine): how far a
store is from another store, or from a shopper's postal code."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

#: The mean Earth radius (IUGG), in kilometres.
EARTH_RADIUS_KM = 6371.0088


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Kilometres along the Earth's surface between (latitude, longitude) points `a` and `b`, in
    degrees; good to about 0.5 % (the Earth is not a sphere), far below what a store list needs."""
    lat_a, lon_a, lat_b, lon_b = map(radians, (*a, *b))
    h = sin((lat_b - lat_a) / 2) ** 2 + cos(lat_a) * cos(lat_b) * sin((lon_b - lon_a) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))
