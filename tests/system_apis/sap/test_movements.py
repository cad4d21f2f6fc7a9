"""Every SAP movement-type row, reversals included, against the contract shared with the
simulator: the canonical events a row becomes, applied to the pure ledger model, move the
gateway's positions exactly as SAP's stock table moves (on_hand=01, quality_inspection=02,
blocked=07, in_transit=06 per mapped location)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest

from process_apis.inventory.domain.ledger import Ledger, Outcome
from process_apis.inventory.service.event_parsing import load_event
from system_apis.sap.documents import DocumentItem, MaterialDocument
from system_apis.sap.locations import LocationMap
from system_apis.sap.movements import MOVEMENTS, map_document, map_item

# The contract, written out independently of the mapping: (site, SAP stock type, sign).
# PS = Plant/StorageLocation, P2S2 = IssuingOrReceivingPlant/StorageLoc, PS2 = Plant with
# IssuingOrReceivingStorageLoc; "T" = the item's InventoryStockType.
_FORWARD = {
    "101": (("PS", "T", +1),),
    "101-sto": (("PS", "06", -1), ("PS", "T", +1)),
    "122": (("PS", "T", -1),),
    "201": (("PS", "01", -1),),
    "251": (("PS", "01", -1),),
    "261": (("PS", "01", -1),),
    "301": (("PS", "01", -1), ("P2S2", "01", +1)),
    "303": (("PS", "01", -1), ("P2S2", "06", +1)),
    "305": (("PS", "06", -1), ("PS", "01", +1)),
    "311": (("PS", "01", -1), ("PS2", "01", +1)),
    "321": (("PS", "02", -1), ("PS", "01", +1)),
    "551": (("PS", "T", -1),),
    "601": (("PS", "01", -1),),
    "641": (("PS", "01", -1), ("P2S2", "06", +1)),
    "651": (("PS", "02", +1),),
    "653": (("PS", "01", +1),),
    "655": (("PS", "02", +1),),
}
_REVERSAL_OF = {
    "102": "101",
    "102-sto": "101-sto",
    "123": "122",
    "202": "201",
    "252": "251",
    "262": "261",
    "302": "301",
    "304": "303",
    "306": "305",
    "312": "311",
    "322": "321",
    "552": "551",
    "602": "601",
    "642": "641",
    "652": "651",
    "654": "653",
    "656": "655",
}
CONTRACT = {
    **_FORWARD,
    **{rev: tuple((site, st, -sign) for site, st, sign in _FORWARD[fwd]) for rev, fwd in _REVERSAL_OF.items()},
    "343": (("PS", "07", -1), ("PS", "01", +1)),
    "344": (("PS", "01", -1), ("PS", "07", +1)),
    "349": (("PS", "07", -1), ("PS", "02", +1)),
    "350": (("PS", "02", -1), ("PS", "07", +1)),
    "701": (("PS", "01", +1),),
    "702": (("PS", "01", -1),),
}
FIELD = {"01": "on_hand", "02": "quality_inspection", "07": "blocked", "06": "in_transit"}

LOCATIONS = LocationMap.parse('{"1010/0001": "S1", "2020/0002": "S2", "1010/0009": "S3"}')
SITE_LOCATION = {"PS": "S1", "P2S2": "S2", "PS2": "S3"}
WHEN = datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)
QUANTITY = 7


def _item(movement_type: str, stock_type: str = "01", **fields) -> DocumentItem:
    record = {
        "MaterialDocumentItem": "0001",
        "Material": "MAT-1",
        "Plant": "1010",
        "StorageLocation": "0001",
        "GoodsMovementType": movement_type,
        "InventoryStockType": stock_type,
        "QuantityInBaseUnit": f"{QUANTITY}.000",
        **fields,
    }
    return DocumentItem.from_odata(record)


def _document(*items: DocumentItem, reference: str = "") -> MaterialDocument:
    return MaterialDocument(year="2026", number="4900000001", occurred_at=WHEN, reference=reference, items=items)


def _contract_item(key: str, stock_type: str) -> DocumentItem:
    movement_type, _, variant = key.partition("-")
    partner = {}
    if variant == "sto" or any(site == "P2S2" for site, _, _ in CONTRACT[key]):
        partner = {"IssuingOrReceivingPlant": "2020", "IssuingOrReceivingStorageLoc": "0002"}
    if any(site == "PS2" for site, _, _ in CONTRACT[key]):
        partner = {"IssuingOrReceivingStorageLoc": "0009"}
    return _item(movement_type, stock_type, **partner)


def _cases():
    for key, effects in CONTRACT.items():
        stock_types = ("01", "02", "07") if any(st == "T" for _, st, _ in effects) else ("01",)
        for stock_type in stock_types:
            yield pytest.param(key, stock_type, id=f"{key}/{stock_type}")


def _sap_effect(key: str, stock_type: str) -> dict:
    expected = defaultdict(int)
    for site, st, sign in CONTRACT[key]:
        expected[(SITE_LOCATION[site], FIELD[stock_type if st == "T" else st])] += sign * QUANTITY
    return expected


def _gateway_effect(events) -> dict:
    ledger = Ledger()
    for event in events:
        assert ledger.apply(load_event(event)) is Outcome.APPLIED
    changes = defaultdict(int)
    for (sku, location), position in ledger.positions().items():
        assert sku == "MAT-1"
        for name in FIELD.values():
            if getattr(position, name):
                changes[(location, name)] += getattr(position, name)
    return changes


@pytest.mark.parametrize("key, stock_type", list(_cases()))
def test_row_moves_positions_exactly_as_sap_moves_its_stock(key, stock_type):
    mapped = map_item(_document(), _contract_item(key, stock_type), LOCATIONS)
    assert not mapped.rejected, mapped.detail
    assert 1 <= len(mapped.events) <= 2
    expected = {k: v for k, v in _sap_effect(key, stock_type).items() if v}
    assert _gateway_effect(mapped.events) == expected


def test_every_row_of_the_table_is_checked_against_the_contract():
    checked = {
        (key, st)
        for key, effects in CONTRACT.items()
        for st in (("01", "02", "07") if any(s == "T" for _, s, _ in effects) else ("*",))
    }
    assert set(MOVEMENTS) == checked


@pytest.mark.parametrize(
    "movement_type, event_type, extra",
    [
        ("251", "stock.issued", {"reason": "sale"}),
        ("252", "stock.received", {}),
        ("101", "stock.received", {"stock_type": "unrestricted"}),
        ("303", "transfer.shipped", {"to_location": "S2"}),
        ("641", "transfer.shipped", {"to_location": "S2"}),
        ("305", "transfer.received", {}),
        ("301", "transfer.moved", {"to_location": "S2"}),
        ("321", "inspection.passed", {}),
        ("350", "inspection.failed", {}),
        ("343", "stock.unblocked", {}),
        ("344", "stock.blocked", {}),
        ("651", "stock.returned", {}),
        ("655", "stock.returned", {}),
        ("653", "stock.received", {}),
        ("701", "stock.received", {}),
        ("702", "stock.issued", {"reason": "shrinkage"}),
        ("551", "stock.issued", {"reason": "scrap"}),
        ("601", "stock.issued", {"reason": "delivery"}),
        ("201", "stock.issued", {"reason": "consumption"}),
        ("261", "stock.issued", {"reason": "consumption"}),
        ("122", "stock.issued", {"reason": "vendor_return"}),
    ],
)
def test_a_movement_with_a_matching_canonical_event_becomes_that_one_event(movement_type, event_type, extra):
    partner = {"IssuingOrReceivingPlant": "2020", "IssuingOrReceivingStorageLoc": "0002"}
    mapped = map_item(
        _document(), _item(movement_type, **(partner if movement_type in ("301", "303", "641") else {})), LOCATIONS
    )
    (event,) = mapped.events
    assert event["type"] == event_type
    assert {k: event[k] for k in extra} == extra


def test_stock_transport_order_receipt_is_a_transfer_received():
    item = _item("101", IssuingOrReceivingPlant="2020", IssuingOrReceivingStorageLoc="0002", PurchaseOrder="4500000009")
    (event,) = map_item(_document(), item, LOCATIONS).events
    assert event["type"] == "transfer.received"
    assert event["location"] == "S1"
    assert event["reference"] == "4500000009"


def test_two_event_rows_are_numbered_item_then_item_2():
    item = _item("304", IssuingOrReceivingPlant="2020", IssuingOrReceivingStorageLoc="0002")
    first, second = map_item(_document(), item, LOCATIONS).events
    assert first["event_id"] == "sap:2026:4900000001:0001"
    assert second["event_id"] == "sap:2026:4900000001:0001:2"
    assert (first["type"], first["location"], first["stock_type"]) == ("stock.received", "S1", "unrestricted")
    assert (second["type"], second["location"], second["stock_type"]) == ("stock.issued", "S2", "in_transit")


def test_event_carries_time_source_quantity_and_the_item_reference_first():
    item = _item("601", Delivery="80000123", SalesOrder="1000077")
    (event,) = map_item(_document(item, reference="REF-9"), item, LOCATIONS).events
    assert event == {
        "event_id": "sap:2026:4900000001:0001",
        "type": "stock.issued",
        "sku": "MAT-1",
        "location": "S1",
        "quantity": 7,
        "occurred_at": "2026-03-04T10:15:30Z",
        "source": "sap",
        "reference": "80000123",
        "reason": "delivery",
        "stock_type": "unrestricted",
    }


@pytest.mark.parametrize(
    "fields, reference",
    [
        ({"SalesOrder": "1000077", "PurchaseOrder": "4500000001"}, "1000077"),
        ({"PurchaseOrder": "4500000001"}, "4500000001"),
        ({}, "REF-9"),
    ],
)
def test_reference_is_delivery_then_sales_order_then_purchase_order_then_the_header(fields, reference):
    (event,) = map_item(_document(reference="REF-9"), _item("251", **fields), LOCATIONS).events
    assert event["reference"] == reference


def test_a_reversal_issue_names_no_reference_so_it_consumes_no_reservation():
    events = map_item(_document(), _item("306", Delivery="80000123"), LOCATIONS).events
    issued = [e for e in events if e["type"] == "stock.issued"]
    assert issued and all("reference" not in e for e in issued)


def test_a_transfer_between_storage_locations_of_one_gateway_location_is_sent_as_its_two_legs():
    locations = LocationMap.parse('{"1010/0001": "S1", "1010/0009": "S1"}')
    events = map_item(_document(), _item("311", IssuingOrReceivingStorageLoc="0009"), locations).events
    assert [(e["type"], e["stock_type"]) for e in events] == [
        ("stock.issued", "unrestricted"),
        ("stock.received", "unrestricted"),
    ]
    assert _gateway_effect(events) == {}


@pytest.mark.parametrize(
    "item, reason",
    [
        (_item("999"), "unknown_movement_type"),
        (_item("101", "06"), "unsupported_stock_type"),
        (_item("551", "03"), "unsupported_stock_type"),
        (_item("251", Plant="9999"), "unmapped_location"),
        (_item("303"), "missing_partner_location"),
        (_item("303", IssuingOrReceivingPlant="3030", IssuingOrReceivingStorageLoc="0001"), "unmapped_location"),
        (_item("251", QuantityInBaseUnit="2.500"), "non_integer_quantity"),
        (_item("251", QuantityInBaseUnit="0.000"), "invalid_quantity"),
        (_item("251", QuantityInBaseUnit="abc"), "invalid_quantity"),
        (_item("251", Material=""), "missing_material"),
    ],
)
def test_an_item_the_mapping_cannot_apply_is_rejected_with_its_reason(item, reason):
    mapped = map_item(_document(), item, LOCATIONS)
    assert mapped.reason == reason
    assert mapped.detail
    assert mapped.events == ()


def test_a_blank_stock_type_is_sap_unrestricted():
    (event,) = map_item(_document(), _item("101", ""), LOCATIONS).events
    assert (event["type"], event["stock_type"]) == ("stock.received", "unrestricted")


def test_without_a_location_map_every_item_is_unmapped():
    mapped = map_document(_document(_item("251"), _item("101")), LocationMap.parse(None))
    assert [m.reason for m in mapped] == ["unmapped_location", "unmapped_location"]


def test_a_document_without_any_date_cannot_be_placed_in_time():
    document = MaterialDocument(year="2026", number="1", occurred_at=None, reference="", items=(_item("251"),))
    assert map_document(document, LOCATIONS)[0].reason == "missing_posting_time"


def test_sap_own_counterpart_line_of_a_transfer_is_not_counted_twice():
    mapped = map_item(_document(), _item("311", IsAutomaticallyCreated="X"), LOCATIONS)
    assert mapped.counterpart and mapped.events == () and not mapped.rejected
