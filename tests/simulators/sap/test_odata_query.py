"""OData query options: $filter grammar and typing, ordering, paging, key predicates (no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from simulators.sap.entities import DOCUMENT_HEADER, MATL_STK_IN_ACCT_MOD, SERVICES
from simulators.sap.errors import ODataError
from simulators.sap.filters import parse_filter
from simulators.sap.odata import entity_json, next_link, parse_options, parse_resource, select_rows


def row(material, plant, sloc, stock_type="01", quantity="1"):
    return {
        "Material": material,
        "Plant": plant,
        "StorageLocation": sloc,
        "Batch": "",
        "Supplier": "",
        "Customer": "",
        "WBSElementInternalID": "00000000",
        "SDDocument": "",
        "SDDocumentItem": "000000",
        "InventorySpecialStockType": "",
        "InventoryStockType": stock_type,
        "WBSElementExternalID": "",
        "MaterialBaseUnit": "PC",
        "MatlWrhsStkQtyInMatlBaseUnit": Decimal(quantity),
    }


ROWS = [
    row("MAT-1001", "1010", "0001", "01", "12"),
    row("MAT-1001", "1110", "0001", "02", "3"),
    row("MAT-1002", "1110", "0002", "01", "0"),
    row("XYZ-1", "1210", "0001", "07", "5"),
]


def matching(expression: str) -> list[tuple[str, str]]:
    where = parse_filter(expression, MATL_STK_IN_ACCT_MOD)
    return [(r["Material"], r["Plant"]) for r in ROWS if where(r)]


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("Material eq 'MAT-1001'", [("MAT-1001", "1010"), ("MAT-1001", "1110")]),
        ("Plant ne '1110'", [("MAT-1001", "1010"), ("XYZ-1", "1210")]),
        ("MatlWrhsStkQtyInMatlBaseUnit gt 3", [("MAT-1001", "1010"), ("XYZ-1", "1210")]),
        (
            "MatlWrhsStkQtyInMatlBaseUnit ge 3M and MatlWrhsStkQtyInMatlBaseUnit le '5'",
            [("MAT-1001", "1110"), ("XYZ-1", "1210")],
        ),
        ("MatlWrhsStkQtyInMatlBaseUnit lt 1", [("MAT-1002", "1110")]),
        ("(Plant eq '1010' or Plant eq '1210') and InventoryStockType eq '01'", [("MAT-1001", "1010")]),
        ("Plant eq '1010' or Plant eq '1210' and InventoryStockType eq '01'", [("MAT-1001", "1010")]),
        ("not (Plant eq '1110')", [("MAT-1001", "1010"), ("XYZ-1", "1210")]),
        ("substringof('AT-10',Material)", [("MAT-1001", "1010"), ("MAT-1001", "1110"), ("MAT-1002", "1110")]),
        ("startswith(Material,'XYZ') eq true", [("XYZ-1", "1210")]),
        ("endswith(Material, '02')", [("MAT-1002", "1110")]),
        ("tolower(Material) eq 'xyz-1'", [("XYZ-1", "1210")]),
        ("Material eq 'O''Brien'", []),
    ],
)
def test_filter_expressions(expression, expected):
    assert matching(expression) == expected


def test_date_fields_compare_with_datetime_literals_and_json_dates():
    headers = [{"PostingDate": datetime(2026, 1, d, tzinfo=UTC), "MaterialDocument": str(d)} for d in (4, 5, 6)]
    for expression in (
        "PostingDate ge datetime'2026-01-05T00:00:00' and PostingDate lt datetime'2026-01-06T00:00'",
        "PostingDate eq '/Date(1767571200000)/'",
    ):
        where = parse_filter(expression, DOCUMENT_HEADER)
        assert [h["MaterialDocument"] for h in headers if where(h)] == ["5"]


@pytest.mark.parametrize(
    "expression",
    [
        "Material eq",
        "Material eq 'x' and",
        "(Material eq 'x'",
        "Nope eq 'x'",
        "Material add 1 eq 2",
        "Plant eq 1010",
        "MatlWrhsStkQtyInMatlBaseUnit gt 'many'",
        "foo('x')",
        "to_X/Material eq 'a'",
        "Material eq 'unterminated",
        "Material eq 'a' Plant",
    ],
)
def test_unsupported_or_wrong_filters_are_400(expression):
    with pytest.raises(ODataError) as raised:
        parse_filter(expression, MATL_STK_IN_ACCT_MOD)
    assert raised.value.status == 400


@pytest.mark.parametrize(
    "expression, keys",
    [
        ("MaterialDocumentYear eq '2026' and MaterialDocument eq '4900000001'", (("2026", "4900000001"),)),
        (
            "(MaterialDocumentYear eq '2026' and "
            "(MaterialDocument eq '4900000001' or MaterialDocument eq '4900000002'))"
            " or (MaterialDocument eq '4900000009' and MaterialDocumentYear eq '2025')",
            (("2026", "4900000001"), ("2026", "4900000002"), ("2025", "4900000009")),
        ),
        # a further condition only narrows what the keys select; a repeated key is looked up once
        (
            "MaterialDocumentYear eq '2026' and MaterialDocument eq '4900000001' and GoodsMovementCode eq '01'",
            (("2026", "4900000001"),),
        ),
        (
            "(MaterialDocumentYear eq '2026' and MaterialDocument eq '1') or (MaterialDocumentYear eq '2026' and "
            "MaterialDocument eq '1')",
            (("2026", "1"),),
        ),
        ("MaterialDocumentYear eq '2026' and MaterialDocument eq '1' and MaterialDocument eq '2'", ()),
    ],
)
def test_a_filter_naming_whole_keys_is_looked_up_by_them(expression, keys):
    assert parse_filter(expression, DOCUMENT_HEADER).keys == keys


@pytest.mark.parametrize(
    "expression",
    [
        "MaterialDocumentYear eq '2026'",  # part of a key: every row of the year
        "MaterialDocumentYear eq '2026' and MaterialDocument eq '1' or GoodsMovementCode eq '01'",
        "not (MaterialDocumentYear eq '2026' and MaterialDocument eq '1')",
        "MaterialDocumentYear eq '2026' and MaterialDocument ne '1'",
        "MaterialDocumentYear eq '2026' and startswith(MaterialDocument, '49')",
    ],
)
def test_a_filter_not_bounded_by_whole_keys_tests_every_row(expression):
    assert parse_filter(expression, DOCUMENT_HEADER).keys is None


def options(**args):
    return parse_options(args, MATL_STK_IN_ACCT_MOD, collection=True)


def test_pages_follow_key_order_and_end_without_a_next_token():
    first = select_rows(ROWS, options(), MATL_STK_IN_ACCT_MOD, page_size=3)
    assert first.total == 4 and first.next_skiptoken == 3 and len(first.rows) == 3
    last = select_rows(ROWS, options(**{"$skiptoken": "3"}), MATL_STK_IN_ACCT_MOD, page_size=3)
    assert [r["Material"] for r in last.rows] == ["XYZ-1"] and last.next_skiptoken is None


def test_top_skip_and_orderby_are_the_clients_choice():
    page = select_rows(
        ROWS,
        options(**{"$orderby": "MatlWrhsStkQtyInMatlBaseUnit desc", "$top": "2", "$skip": "1"}),
        MATL_STK_IN_ACCT_MOD,
        page_size=1,
    )
    assert [r["MatlWrhsStkQtyInMatlBaseUnit"] for r in page.rows] == [Decimal(5), Decimal(3)]
    assert page.next_skiptoken is None


@pytest.mark.parametrize(
    "args",
    [
        {"$top": "-1"},
        {"$skiptoken": "abc"},
        {"$orderby": "Nope"},
        {"$select": "Nope"},
        {"$expand": "to_Nope"},
        {"$inlinecount": "some"},
        {"$format": "xml"},
        {"$search": "x"},
    ],
)
def test_invalid_query_options_are_400(args):
    with pytest.raises(ODataError) as raised:
        options(**args)
    assert raised.value.status == 400


def test_next_link_keeps_the_query_and_replaces_the_position():
    link = next_link(
        "http://h/sap/opu/odata/sap/S/A", {"$filter": "Plant eq '1010'", "$skip": "2", "$skiptoken": "4"}, 8
    )
    assert link == "http://h/sap/opu/odata/sap/S/A?$filter=Plant%20eq%20'1010'&$skiptoken=8"


def test_key_predicates_are_parsed_with_or_without_names():
    stock = {e.set_name: e for e in SERVICES["API_MATERIAL_STOCK_SRV"].entity_types}
    assert parse_resource("A_MaterialStock('MAT-1')/to_MatlStkInAcctMod/$count", stock).key == {"Material": "MAT-1"}
    key = (
        "Material='A/B',Plant='1010',StorageLocation='0001',Batch='',Supplier='',Customer='',"
        "WBSElementInternalID='00000000',SDDocument='',SDDocumentItem='000000',InventorySpecialStockType='',"
        "InventoryStockType='01'"
    )
    assert parse_resource(f"A_MatlStkInAcctMod({key})", stock).key["Material"] == "A/B"
    with pytest.raises(ODataError):
        parse_resource("A_MatlStkInAcctMod(Material='x')", stock)


def test_entities_carry_metadata_and_sap_json_values():
    body = entity_json(MATL_STK_IN_ACCT_MOD, ROWS[0], "http://h/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV")
    assert body["__metadata"]["type"] == "API_MATERIAL_STOCK_SRV.A_MatlStkInAcctModType"
    assert body["__metadata"]["uri"].endswith(
        "A_MatlStkInAcctMod(Material='MAT-1001',Plant='1010',"
        "StorageLocation='0001',Batch='',Supplier='',Customer='',"
        "WBSElementInternalID='00000000',SDDocument='',SDDocumentItem='000000',"
        "InventorySpecialStockType='',InventoryStockType='01')"
    )
    assert body["MatlWrhsStkQtyInMatlBaseUnit"] == "12.000"
