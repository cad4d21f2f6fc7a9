"""Haversine distances between (latitude, longitude) points (pure, no I/O)."""

from __future__ import annotations

import pytest

from experience_apis.geo import distance_km

BERLIN_MITTE, BERLIN_KREUZBERG, HAMBURG_ALTONA = (52.53, 13.38), (52.50, 13.42), (53.55, 9.93)


def test_distance_to_itself_is_zero():
    assert distance_km(BERLIN_MITTE, BERLIN_MITTE) == 0


def test_distance_is_symmetric_and_matches_known_great_circles():
    assert distance_km(BERLIN_MITTE, HAMBURG_ALTONA) == pytest.approx(distance_km(HAMBURG_ALTONA, BERLIN_MITTE))
    assert distance_km(BERLIN_MITTE, HAMBURG_ALTONA) == pytest.approx(256, abs=3)
    assert distance_km((0, 0), (0, 1)) == pytest.approx(111.2, abs=0.1)  # one degree along the equator
    assert distance_km((0, 0), (0, 180)) == pytest.approx(20015, abs=1)  # antipodes: half the circumference


def test_distance_between_the_demo_stores_is_what_the_store_api_shows():
    # S001 (Berlin Mitte) to S002 (Kreuzberg) and S003 (Hamburg Altona), as /store/v1 .../nearby rounds them.
    assert round(distance_km(BERLIN_MITTE, BERLIN_KREUZBERG), 1) == 4.3
    assert round(distance_km(BERLIN_MITTE, HAMBURG_ALTONA), 1) == pytest.approx(257, abs=1)
