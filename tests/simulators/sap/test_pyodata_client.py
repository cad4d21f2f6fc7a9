"""SAP's own Python OData client (pyodata) against the simulator over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pyodata.exceptions import HttpError

from tests.simulators.sap.support import DOCUMENT_SRV, STOCK_SRV


def test_pyodata_parses_both_metadata_documents(simulator):
    stock = simulator.pyodata(STOCK_SRV)
    documents = simulator.pyodata(DOCUMENT_SRV)
    assert {s.name for s in stock.schema.entity_sets} == {"A_MaterialStock", "A_MatlStkInAcctMod"}
    assert {s.name for s in documents.schema.entity_sets} == {"A_MaterialDocumentHeader", "A_MaterialDocumentItem"}
    assert {f.name for f in documents.schema.function_imports} == {"Cancel", "CancelItem"}
    key = [p.name for p in stock.schema.entity_type("A_MatlStkInAcctModType").key_proprties]
    assert key == [
        "Material",
        "Plant",
        "StorageLocation",
        "Batch",
        "Supplier",
        "Customer",
        "WBSElementInternalID",
        "SDDocument",
        "SDDocumentItem",
        "InventorySpecialStockType",
        "InventoryStockType",
    ]


def test_filter_and_inline_count(simulator):
    stock = simulator.pyodata(STOCK_SRV)
    rows = (
        stock.entity_sets.A_MatlStkInAcctMod.get_entities()
        .filter("Material eq 'MAT-1001' and Plant eq '1110'")
        .count(inline=True)
        .execute()
    )
    assert rows.total_count == 2
    assert {(r.InventoryStockType, r.MatlWrhsStkQtyInMatlBaseUnit) for r in rows} == {("01", "10.000"), ("02", "4.000")}


def test_count_request(simulator):
    stock = simulator.pyodata(STOCK_SRV).entity_sets
    assert stock.A_MatlStkInAcctMod.get_entities().count().execute() == 5
    assert stock.A_MatlStkInAcctMod.get_entities().filter(Plant="1110").count().execute() == 3


def test_paging_across_next_links(simulator):
    for n in range(10):  # 5 + 10 = 15 rows with a page size of 4: four pages
        simulator.system.stock.set_quantity(f"MAT-9{n}", "1010", "0001", "01", n)
    stock = simulator.pyodata(STOCK_SRV).entity_sets.A_MatlStkInAcctMod
    page = stock.get_entities().count(inline=True).execute()
    seen, pages = [], 0
    while True:
        pages += 1
        seen += [(r.Material, r.Plant, r.StorageLocation, r.InventoryStockType) for r in page]
        if page.next_url is None:
            break
        page = stock.get_entities().next_url(page.next_url).execute()
    assert pages == 4 and page.total_count == 15
    assert len(seen) == len(set(seen)) == 15


def test_single_entity_with_the_eleven_part_key(simulator):
    stock = simulator.pyodata(STOCK_SRV)
    row = stock.entity_sets.A_MatlStkInAcctMod.get_entity(
        Material="MAT-1001",
        Plant="1010",
        StorageLocation="0001",
        Batch="",
        Supplier="",
        Customer="",
        WBSElementInternalID="00000000",
        SDDocument="",
        SDDocumentItem="000000",
        InventorySpecialStockType="",
        InventoryStockType="01",
    ).execute()
    assert row.MatlWrhsStkQtyInMatlBaseUnit == "100.000" and row.MaterialBaseUnit == "PC"
    material = stock.entity_sets.A_MaterialStock.get_entity("MAT-1001").expand("to_MatlStkInAcctMod").execute()
    assert len(material.to_MatlStkInAcctMod) == 3


def _goods_receipt(documents, quantity: str = "2"):
    return (
        documents.entity_sets.A_MaterialDocumentHeader.create_entity()
        .set(
            **{
                "GoodsMovementCode": "01",
                "PostingDate": datetime(2026, 1, 5, tzinfo=UTC),
                "MaterialDocumentHeaderText": "pyodata deep insert",
                "to_MaterialDocumentItem": [
                    {
                        "GoodsMovementType": "101",
                        "Material": "MAT-1001",
                        "Plant": "1110",
                        "StorageLocation": "0002",
                        "QuantityInEntryUnit": quantity,
                        "EntryUnit": "KAR",
                    }
                ],
            }
        )
        .execute()
    )


def test_deep_insert_with_the_csrf_dance_posts_a_goods_movement(simulator):
    documents = simulator.pyodata(DOCUMENT_SRV, with_csrf=True)
    header = _goods_receipt(documents)
    assert header.MaterialDocumentYear == "2026" and header.MaterialDocument == "4900000000"
    assert header.PostingDate == datetime(2026, 1, 5, tzinfo=UTC)
    [item] = header.to_MaterialDocumentItem
    assert (item.MaterialDocumentItem, item.QuantityInBaseUnit, item.MaterialBaseUnit) == ("0001", "24.000", "PC")
    assert simulator.system.stock.quantity("MAT-1001", "1110", "0002") == Decimal(24)
    again = (
        documents.entity_sets.A_MaterialDocumentHeader.get_entity(
            MaterialDocumentYear="2026", MaterialDocument="4900000000"
        )
        .nav("to_MaterialDocumentItem")
        .get_entities()
    )
    assert [i.GoodsMovementType for i in again.execute()] == ["101"]


def test_a_rejected_posting_surfaces_the_sap_error(simulator):
    documents = simulator.pyodata(DOCUMENT_SRV, with_csrf=True)
    with pytest.raises(HttpError) as raised:
        documents.entity_sets.A_MaterialDocumentHeader.create_entity().set(
            **{
                "GoodsMovementCode": "03",
                "to_MaterialDocumentItem": [
                    {
                        "GoodsMovementType": "251",
                        "Material": "MAT-1002",
                        "Plant": "1110",
                        "StorageLocation": "0002",
                        "QuantityInEntryUnit": "12",
                    }
                ],
            }
        ).execute()
    assert raised.value.response.status_code == 400
    assert "Deficit of SL Unrestricted-use 5 PC" in raised.value.response.json()["error"]["message"]["value"]


def test_cancel_function_import_reverses_stock(simulator):
    documents = simulator.pyodata(DOCUMENT_SRV, with_csrf=True)
    header = _goods_receipt(documents, "1")
    reversal = (
        documents.functions.Cancel.parameter("MaterialDocumentYear", header.MaterialDocumentYear)
        .parameter("MaterialDocument", header.MaterialDocument)
        .parameter("PostingDate", datetime(2026, 1, 6, tzinfo=UTC))
        .execute()
    )
    assert reversal.MaterialDocument == "4900000001"
    assert reversal.PostingDate == datetime(2026, 1, 6, tzinfo=UTC)
    [item] = reversal.to_MaterialDocumentItem
    assert (item.GoodsMovementType, item.ReversedMaterialDocument) == ("102", header.MaterialDocument)
    assert simulator.system.stock.quantity("MAT-1001", "1110", "0002") == 0
    original = documents.entity_sets.A_MaterialDocumentItem.get_entity(
        MaterialDocumentYear="2026", MaterialDocument=header.MaterialDocument, MaterialDocumentItem="0001"
    ).execute()
    assert original.GoodsMovementIsCancelled is True
    with pytest.raises(HttpError) as raised:
        (
            documents.functions.Cancel.parameter("MaterialDocumentYear", "2026")
            .parameter("MaterialDocument", header.MaterialDocument)
            .execute()
        )
    assert raised.value.response.status_code == 400
