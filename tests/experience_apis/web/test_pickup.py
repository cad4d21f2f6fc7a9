"""The choice of pickup stores near a shopper (pure, no I/O; distances themselves:
tests/experience_apis/test_geo.py)."""

from __future__ import annotations

from experience_apis.web.pickup import nearby_pickup_stores

BERLIN_MITTE, HAMBURG_ALTONA = (52.53, 13.38), (53.55, 9.93)


def store(id_, lat, lon, *, type_="store", methods=("ship", "pickup"), channels=("web", "store")):
    return {
        "id": id_,
        "name": f"Store {id_}",
        "type": type_,
        "latitude": lat,
        "longitude": lon,
        "fulfilment_methods": list(methods),
        "channels": list(channels),
    }


def test_pickup_stores_are_web_pickup_stores_within_the_radius_nearest_first():
    locations = [
        store("FAR", *HAMBURG_ALTONA),
        store("NEAR", 52.531, 13.381),
        store("MID", 52.50, 13.42),
        store("DC", *BERLIN_MITTE, type_="dc"),
        store("SHIP-ONLY", *BERLIN_MITTE, methods=("ship",)),
        store("NOT-WEB", *BERLIN_MITTE, channels=("store",)),
        {**store("NOWHERE", 0, 0), "latitude": None, "longitude": None},
    ]
    found = nearby_pickup_stores(locations, BERLIN_MITTE, 50)
    assert [s.id for s in found] == ["NEAR", "MID"]
    assert [s.distance_km for s in found] == [0.1, 4.3]  # rounded to 0.1 km
    assert found[0].name == "Store NEAR"


def test_pickup_stores_are_bounded_and_ties_go_by_id():
    locations = [store(f"S{n:02}", *BERLIN_MITTE) for n in reversed(range(15))]
    found = nearby_pickup_stores(locations, BERLIN_MITTE, 50, limit=10)
    assert [s.id for s in found] == [f"S{n:02}" for n in range(10)]
