"""Posting and cancelling material documents against the stock table (no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from gateway.settings import Settings
from simulators.sap.app import create_app
from simulators.sap.seed import DEMO_LOCATION_MAP, DEMO_MATERIALS, seed_demo
from simulators.sap.stock import PostingError, StockTable

NOW = datetime(2026, 1, 5, 10, 15, 42, tzinfo=UTC)


@pytest.fixture
def table() -> StockTable:
    table = StockTable()
    table.add_material("MAT-1", "PC", {"KAR": 12})
    table.add_material("MAT-2", "PC")
    table.add_storage_location("1010", "0001")
    table.add_storage_location("1110", "0001")
    table.set_quantity("MAT-1", "1010", "0001", "01", 5)
    table.set_quantity("MAT-2", "1010", "0001", "01", 20)
    return table


def item(movement_type="251", quantity="1", material="MAT-1", plant="1010", sloc="0001", **fields) -> dict:
    return {
        "GoodsMovementType": movement_type,
        "Material": material,
        "Plant": plant,
        "StorageLocation": sloc,
        "QuantityInEntryUnit": quantity,
        **fields,
    }


def post(table, *items, code="03", **header):
    return table.post({"GoodsMovementCode": code, **header}, list(items), user="COMM_USER", now=NOW)


def test_a_document_gets_numbers_dates_and_items():
    table = StockTable()
    table.add_material("MAT-1")
    table.add_storage_location("1010", "0001")
    first = post(table, item("701", "2"), item("701", "3"), code="05", PostingDate="/Date(1767571200000)/")
    second = post(table, item("701", "1"), code="05")
    assert first.key == ("2026", "4900000000") and second.key == ("2026", "4900000001")
    assert [i["MaterialDocumentItem"] for i in first.items] == ["0001", "0002"]
    assert first.header["PostingDate"] == datetime(2026, 1, 5, tzinfo=UTC)
    assert first.header["CreationTime"].isoformat() == "10:15:42"
    assert first.header["CreatedByUser"] == "COMM_USER"
    assert first.items[0]["InventoryStockType"] == "01" and first.items[0]["GoodsMovementIsCancelled"] is False


def test_numbers_restart_per_posting_year(table):
    post(table, item("701"), code="05", PostingDate="2025-12-31T00:00:00")
    assert post(table, item("701"), code="05", PostingDate="2026-01-01T00:00:00").key == ("2026", "4900000000")


def test_an_issue_beyond_unrestricted_stock_is_rejected_with_sap_deficit_message(table):
    with pytest.raises(PostingError) as raised:
        post(table, item("251", "8"))
    assert raised.value.code == "M7/021"
    assert "Deficit of SL Unrestricted-use 3 PC" in raised.value.message
    assert table.quantity("MAT-1", "1010", "0001") == 5 and table.documents() == []


def test_one_bad_item_rejects_the_whole_document(table):
    with pytest.raises(PostingError) as raised:
        post(table, item("251", "1", material="MAT-2"), item("251", "9"))
    assert raised.value.code == "M7/021"
    assert table.quantity("MAT-2", "1010", "0001") == 20 and table.documents() == []


def test_every_invalid_item_is_reported(table):
    with pytest.raises(PostingError) as raised:
        post(
            table,
            item("999"),
            item(material="NOPE"),
            item(sloc="9999"),
            item(quantity="0"),
            item("301"),
            item("101", EntryUnit="BOX"),
        )
    messages = " | ".join(message for _, message in raised.value.details)
    for expected in (
        "Movement type 999 does not exist",
        "Material NOPE does not exist",
        "Storage location 1010 9999 does not exist",
        "must be greater than zero",
        "needs IssuingOrReceivingPlant",
        "Unit BOX is not defined",
    ):
        assert expected in messages
    assert table.documents() == []


def test_negative_unrestricted_stock_only_when_allowed(table):
    table.allow_negative_stock = True
    post(table, item("251", "8"))
    assert table.quantity("MAT-1", "1010", "0001") == Decimal("-3")
    with pytest.raises(PostingError):  # other stock types never go negative
        post(table, item("321", "1"), code="04")


def test_an_entry_unit_is_converted_to_the_base_unit(table):
    document = post(table, item("101", "2", EntryUnit="KAR"), code="01")
    assert document.items[0]["QuantityInBaseUnit"] == Decimal("24.000")
    assert document.items[0]["QuantityInEntryUnit"] == Decimal("2.000")
    assert table.quantity("MAT-1", "1010", "0001") == 29


def test_cancel_posts_the_reversal_and_marks_the_original(table):
    original = post(table, item("101", "10"), item("101", "1", material="MAT-2"), code="01")
    reversal = table.cancel(*original.key, user="COMM_USER", now=NOW)
    assert [i["GoodsMovementType"] for i in reversal.items] == ["102", "102"]
    assert reversal.items[0]["ReversedMaterialDocument"] == original.key[1]
    assert reversal.items[1]["ReversedMaterialDocumentItem"] == "0002"
    assert all(i["GoodsMovementIsCancelled"] for i in original.items)
    assert table.quantity("MAT-1", "1010", "0001") == 5 and table.quantity("MAT-2", "1010", "0001") == 20
    with pytest.raises(PostingError, match="already been cancelled"):
        table.cancel(*original.key, user="COMM_USER", now=NOW)


def test_cancel_item_reverses_one_item_and_cancel_the_rest(table):
    original = post(table, item("251", "1"), item("251", "2", material="MAT-2"))
    table.cancel(*original.key, item="2", user="COMM_USER", now=NOW)
    assert table.quantity("MAT-2", "1010", "0001") == 20 and table.quantity("MAT-1", "1010", "0001") == 4
    rest = table.cancel(*original.key, user="COMM_USER", now=NOW)
    assert [i["Material"] for i in rest.items] == ["MAT-1"]
    assert table.quantity("MAT-1", "1010", "0001") == 5


def test_a_cancel_that_would_leave_a_deficit_is_rejected(table):
    receipt = post(table, item("101", "10"), code="01")
    post(table, item("251", "12"))
    with pytest.raises(PostingError, match="Deficit"):
        table.cancel(*receipt.key, user="COMM_USER", now=NOW)
    assert not receipt.items[0]["GoodsMovementIsCancelled"]


def test_reversal_documents_and_unknown_documents_cannot_be_cancelled(table):
    sale = post(table, item("251", "1"))
    reversal = table.cancel(*sale.key, user="COMM_USER", now=NOW)
    with pytest.raises(PostingError, match="cannot be cancelled"):
        table.cancel(*reversal.key, user="COMM_USER", now=NOW)
    with pytest.raises(PostingError, match="does not exist"):
        table.cancel("2026", "4999999999", user="COMM_USER", now=NOW)


def test_the_demo_landscape_has_every_stock_type_on_every_material_and_location():
    table = StockTable()
    seed_demo(table)
    for location in DEMO_LOCATION_MAP:
        plant, sloc = location.split("/")
        for material in DEMO_MATERIALS:
            assert all(table.quantity(material, plant, sloc, t) > 0 for t in ("01", "02", "06", "07"))
    assert set(DEMO_LOCATION_MAP.values()) == {"DC01", "S001", "S002", "S003"}
    assert DEMO_MATERIALS[0] == "MAT-1001" and DEMO_MATERIALS[-1] == "MAT-1020"


def test_the_simulator_refuses_to_start_without_a_communication_user():
    with pytest.raises(ValueError, match="SAP_USER"):
        create_app(Settings())
    with pytest.raises(ValueError, match="SAP_PASSWORD"):
        create_app(Settings(sap_user="COMM_USER"))


@pytest.mark.parametrize(
    ("now", "local_day", "local_time"),
    [
        (datetime(2026, 1, 5, 9, 0, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC), "10:00:00"),  # CET, +1
        (datetime(2026, 7, 6, 8, 0, tzinfo=UTC), datetime(2026, 7, 6, tzinfo=UTC), "10:00:00"),  # CEST, +2
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), "00:30:00"),  # next day
    ],
    ids=["winter", "summer", "new year"],
)
def test_a_system_in_a_local_time_zone_records_local_dates_and_times(now, local_day, local_time):
    table = StockTable(time_zone=ZoneInfo("Europe/Berlin"))
    table.add_material("MAT-1")
    table.add_storage_location("1010", "0001")

    document = table.post({"GoodsMovementCode": "05"}, [item("701", "1")], user="COMM_USER", now=now)

    header = document.header
    assert (header["PostingDate"], header["CreationDate"]) == (local_day, local_day)
    assert header["CreationTime"].isoformat() == local_time
    assert document.key[0] == str(local_day.year)


def test_the_simulator_posts_in_sap_time_zone():
    settings = Settings(sap_user="COMM_USER", sap_password="x", sap_time_zone="Europe/Berlin")
    app = create_app(settings, clock=lambda: datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    system = app.extensions["sap_system"]
    system.stock.add_material("MAT-1")
    system.stock.add_storage_location("1010", "0001")
    try:
        document = system.post_document({"GoodsMovementCode": "05"}, [item("701", "1")])
    finally:
        system.close()

    assert document.header["CreationTime"].isoformat() == "10:00:00"
