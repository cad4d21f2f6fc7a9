"""Postal code → coordinates: the bundled German table, longest-prefix fallback, and WEB_POSTAL_CODES."""

from __future__ import annotations

import json

import pytest

from experience_apis.geo import distance_km
from experience_apis.web import postal_codes

DEMO_STORE_CODES = {"10115": (52.53, 13.38), "10997": (52.50, 13.42), "22765": (53.55, 9.93), "34117": (51.31, 9.49)}
CITY_PREFIXES = {
    "Berlin": ("10", "12", "13", "14"),
    "Hamburg": ("20", "21", "22"),
    "Munich": ("80", "81"),
    "Cologne": ("50", "51"),
    "Frankfurt": ("60", "65"),
    "Kassel": ("34",),
}


def test_bundled_table_covers_the_demo_stores_codes_near_their_stores():
    table = postal_codes.load(None)
    for code, store in DEMO_STORE_CODES.items():
        match = table.resolve(code)
        assert match.postal_code == code
        assert distance_km(match.point, store) < 3


def test_bundled_table_covers_every_city_with_several_codes():
    table = postal_codes.load(None).table
    assert len(table) >= 34
    for city, prefixes in CITY_PREFIXES.items():
        assert sum(code.startswith(prefixes) for code in table) >= 3, city
    assert all(47 < lat < 55 and 5 < lon < 16 for lat, lon in table.values())  # all inside Germany


def test_unknown_code_falls_back_to_the_longest_known_prefix():
    table = postal_codes.PostalCodes({"10115": (52.53, 13.38), "10435": (52.54, 13.41), "80331": (48.14, 11.58)})
    assert table.resolve("10437").postal_code == "10435"  # shares "1043"
    assert table.resolve("10999").postal_code == "10115"  # shares "10" only; the smallest such code
    assert table.resolve("80999").postal_code == "80331"
    assert table.resolve(" 10115 ").postal_code == "10115"


def test_code_sharing_less_than_the_region_prefix_is_unknown():
    table = postal_codes.PostalCodes({"10115": (52.53, 13.38)})
    assert table.resolve("19999") is None
    assert table.resolve("99999") is None


def test_setting_replaces_the_table_inline_or_from_a_file(tmp_path):
    inline = postal_codes.load('{"SW1A 1AA": [51.501, -0.142]}')
    assert inline.resolve("sw1a 1aa").point == (51.501, -0.142)
    assert inline.resolve("10115") is None
    path = tmp_path / "codes.json"
    path.write_text(json.dumps({"99999": [50.0, 8.0]}))
    assert postal_codes.load(f"@{path}").resolve("99999").point == (50.0, 8.0)


@pytest.mark.parametrize(
    "bad", ["not json", "[]", "{}", '{"10115": [52.5]}', '{"10115": [95, 13]}', '{"10115": ["52", "13"]}']
)
def test_a_bad_table_is_refused_naming_the_setting(bad):
    with pytest.raises(ValueError, match="WEB_POSTAL_CODES"):
        postal_codes.load(bad)
