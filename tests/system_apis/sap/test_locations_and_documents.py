"""The location map and SAP's OData v2 value formats, read into plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from system_apis.sap.documents import MaterialDocument, parse_datetime, parse_quantity, parse_time
from system_apis.sap.locations import LocationMap


def test_location_map_reads_plant_and_storage_location_keys_and_plant_wide_keys():
    locations = LocationMap.parse('{"1010/0001": "S1", "1010/0009": "S3", "2020": "D2"}')
    assert locations.location("1010", "0001") == "S1"
    assert locations.location("1010", "0002") is None
    assert locations.location("2020", "0005") == "D2"
    assert locations.location("2020", "") == "D2"
    assert locations.plants_of(["S1"]) == {"1010"}
    assert locations.locations_of(["1010"]) == {"S1", "S3"}


def test_location_map_may_live_in_a_file(tmp_path):
    path = tmp_path / "map.json"
    path.write_text('{"1010/0001": "S1"}')
    assert LocationMap.parse(f"@{path}").location("1010", "0001") == "S1"


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_no_location_map_maps_nothing(raw):
    locations = LocationMap.parse(raw)
    assert not locations and locations.location("1010", "0001") is None


@pytest.mark.parametrize(
    "raw", ["{not json", "[]", '{"1010/0001": "has {brace}"}', '{"/0001": "S1"}', '{"1010/0001": 5}']
)
def test_a_broken_location_map_fails_at_start_up(raw):
    with pytest.raises(ValueError):
        LocationMap.parse(raw)


def test_odata_v2_dates_times_and_decimals():
    assert parse_datetime("/Date(1767225600000)/") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_datetime("/Date(1767225600000+0060)/") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_datetime("2026-01-01T10:00:00") == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert parse_datetime("") is None and parse_datetime("yesterday") is None
    assert parse_time("PT10H15M30S") == timedelta(hours=10, minutes=15, seconds=30)
    assert parse_time("10:15:30") == timedelta(hours=10, minutes=15, seconds=30)
    assert parse_quantity("5.000") == Decimal(5) and parse_quantity(2) == Decimal(2)
    assert parse_quantity("x") is None and parse_quantity(None) is None and parse_quantity("NaN") is None


def test_document_time_is_creation_date_plus_time_else_posting_date():
    created = MaterialDocument.from_odata(
        {
            "CreationDate": "/Date(1767225600000)/",
            "CreationTime": "PT08H30M00S",
            "PostingDate": "/Date(1767139200000)/",
        },
        [],
    )
    assert created.occurred_at == datetime(2026, 1, 1, 8, 30, tzinfo=UTC)
    posted = MaterialDocument.from_odata({"PostingDate": "/Date(1767139200000)/"}, [])
    assert posted.occurred_at == datetime(2025, 12, 31, tzinfo=UTC)
    assert MaterialDocument.from_odata({}, []).occurred_at is None


def test_an_item_keeps_its_sap_fields_without_odata_bookkeeping():
    document = MaterialDocument.from_odata(
        {"MaterialDocumentYear": "2026", "MaterialDocument": "1"},
        [
            {
                "__metadata": {"uri": "…"},
                "MaterialDocumentItem": "0001",
                "Material": "M",
                "Plant": "1010",
                "to_SerialNumbers": {"__deferred": {"uri": "…"}},
                "GoodsMovementType": "101",
            }
        ],
    )
    assert document.items[0].record == {
        "MaterialDocumentItem": "0001",
        "Material": "M",
        "Plant": "1010",
        "GoodsMovementType": "101",
    }


@pytest.mark.parametrize(
    ("day_ms", "utc_hour"),
    [(1767225600000, 9), (1782864000000, 8)],  # 2026-01-01 (CET, +1) and 2026-07-01 (CEST, +2)
    ids=["winter", "summer"],
)
def test_document_times_are_read_in_the_sap_systems_time_zone(day_ms, utc_hour):
    berlin = ZoneInfo("Europe/Berlin")
    created = MaterialDocument.from_odata(
        {"CreationDate": f"/Date({day_ms})/", "CreationTime": "PT10H00M00S"}, [], time_zone=berlin
    )
    posted = MaterialDocument.from_odata({"PostingDate": f"/Date({day_ms})/"}, [], time_zone=berlin)

    day = datetime.fromtimestamp(day_ms / 1000, UTC)
    assert created.occurred_at == day.replace(hour=utc_hour)
    assert posted.occurred_at == day - timedelta(hours=10 - utc_hour)  # local midnight
