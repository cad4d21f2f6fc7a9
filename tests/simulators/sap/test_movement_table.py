"""Every row of the movement-type table, applied to the stock table (written out here independently
of simulators/sap/movements.py, exactly as the design states it)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from simulators.sap.movements import MOVEMENT_TYPES
from simulators.sap.stock import StockTable

NOW = datetime(2026, 1, 5, 10, 15, tzinfo=UTC)
Q = 3
# effect: sign, plant (P | P2), storage location (S | S2), stock type (code or T = the item's type)
PRIMARY = {
    "101": "+P,S,T",
    "122": "-P,S,T",
    "201": "-P,S,01",
    "251": "-P,S,01",
    "261": "-P,S,01",
    "301": "-P,S,01 +P2,S2,01",
    "303": "-P,S,01 +P2,S2,06",
    "305": "-P,S,06 +P,S,01",
    "311": "-P,S,01 +P,S2,01",
    "321": "-P,S,02 +P,S,01",
    "343": "-P,S,07 +P,S,01",
    "344": "-P,S,01 +P,S,07",
    "349": "-P,S,07 +P,S,02",
    "350": "-P,S,02 +P,S,07",
    "551": "-P,S,T",
    "601": "-P,S,01",
    "641": "-P,S,01 +P2,S2,06",
    "651": "+P,S,02",
    "653": "+P,S,01",
    "655": "+P,S,02",
    "701": "+P,S,01",
    "702": "-P,S,01",
}
REVERSES = {
    "102": "101",
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
STO_RECEIPT = "-P,S,06 +P,S,T"  # 101 with IssuingOrReceivingPlant set
P, S, P2, S2, S2_SAME_PLANT = "1010", "0001", "1110", "0001", "0002"
MATERIAL = "MAT-1"


def _flip(effects: str) -> str:
    return " ".join(("-" if e[0] == "+" else "+") + e[1:] for e in effects.split())


def expected_table() -> dict[str, str]:
    table = dict(PRIMARY)
    table.update({code: _flip(PRIMARY[original]) for code, original in REVERSES.items()})
    return table


def _stock_table() -> StockTable:
    table = StockTable()
    table.add_material(MATERIAL)
    for plant, sloc in ((P, S), (P2, S2), (P, S2_SAME_PLANT)):
        for stock_type in ("01", "02", "06", "07"):
            table.set_quantity(MATERIAL, plant, sloc, stock_type, 10)
    return table


def _expected_changes(effects: str, *, item_type: str, partner_plant: str, partner_sloc: str) -> dict:
    changes: dict = {}
    for effect in effects.split():
        sign, (plant, sloc, stock_type) = effect[0], effect[1:].split(",")
        key = (
            {"P": P, "P2": partner_plant}[plant],
            {"S": S, "S2": partner_sloc}[sloc],
            item_type if stock_type == "T" else stock_type,
        )
        changes[key] = changes.get(key, 0) + (Q if sign == "+" else -Q)
    return changes


def _changes(before: StockTable, after: StockTable) -> dict:
    keys = {(r["Plant"], r["StorageLocation"], r["InventoryStockType"]) for r in before.stock_rows()}
    keys |= {(r["Plant"], r["StorageLocation"], r["InventoryStockType"]) for r in after.stock_rows()}
    changes = {}
    for key in keys:
        delta = after.quantity(MATERIAL, *key) - before.quantity(MATERIAL, *key)
        if delta:
            changes[key] = int(delta)
    return changes


def _post(movement_type: str, *, item_type: str = "", sto: bool = False) -> tuple[dict, dict]:
    """(expected, actual) stock changes of one item of `movement_type` with quantity Q."""
    one_plant = movement_type in ("311", "312")
    partner_plant = "" if one_plant else P2
    partner_sloc = S2_SAME_PLANT if one_plant else S2
    item = {
        "GoodsMovementType": movement_type,
        "Material": MATERIAL,
        "Plant": P,
        "StorageLocation": S,
        "QuantityInEntryUnit": str(Q),
        "InventoryStockType": item_type,
    }
    effects = expected_table()[movement_type]
    if sto:
        item["IssuingOrReceivingPlant"] = P2
        effects = STO_RECEIPT if movement_type == "101" else _flip(STO_RECEIPT)
    elif any("2," in e for e in effects.split()):
        item.update(IssuingOrReceivingPlant=partner_plant, IssuingOrReceivingStorageLoc=partner_sloc)
    before, after = _stock_table(), _stock_table()
    after.post({"GoodsMovementCode": "05", "PostingDate": NOW}, [item], user="TEST", now=NOW)
    return _expected_changes(
        effects, item_type=item_type or "01", partner_plant=partner_plant, partner_sloc=partner_sloc
    ), _changes(before, after)


def test_the_simulator_knows_exactly_the_movement_types_of_the_table():
    assert set(MOVEMENT_TYPES) == set(expected_table())


@pytest.mark.parametrize("movement_type", sorted(expected_table()))
def test_each_movement_type_changes_stock_as_the_table_says(movement_type):
    expected, actual = _post(movement_type)
    assert actual == expected


@pytest.mark.parametrize(
    "movement_type, item_type", [("101", "02"), ("101", "07"), ("551", "07"), ("122", "02"), ("552", "02")]
)
def test_the_item_stock_type_is_used_where_the_table_says_T(movement_type, item_type):
    expected, actual = _post(movement_type, item_type=item_type)
    assert actual == expected


@pytest.mark.parametrize("movement_type", ["101", "102"])
def test_101_on_a_stock_transport_order_moves_in_transit_stock_to_unrestricted(movement_type):
    expected, actual = _post(movement_type, sto=True)
    assert actual == expected
    assert actual[(P, S, "06")] == (-Q if movement_type == "101" else Q)


def test_quantities_are_decimals_with_three_places():
    table = _stock_table()
    table.post(
        {"GoodsMovementCode": "05"},
        [
            {
                "GoodsMovementType": "701",
                "Material": MATERIAL,
                "Plant": P,
                "StorageLocation": S,
                "QuantityInEntryUnit": "1.5",
            }
        ],
        user="TEST",
        now=NOW,
    )
    assert table.quantity(MATERIAL, P, S) == Decimal("11.500")
