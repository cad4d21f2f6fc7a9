"""SAP's stock table as gateway positions: records summed per material and mapped location,
the stock.counted events that state them, and the drift between SAP and the gateway."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .documents import StockRecord
from .locations import LocationMap
from .movements import SOURCE

#: SAP stock type → position field.
STOCK_FIELDS = {"01": "on_hand", "02": "quality_inspection", "07": "blocked", "06": "in_transit"}
FIELDS = tuple(STOCK_FIELDS.values())

# Why a stock record does not count towards any position.
UNMAPPED_LOCATION = "unmapped_location"
SPECIAL_STOCK = "special_stock"
UNSUPPORTED_STOCK_TYPE = "unsupported_stock_type"
INVALID_QUANTITY = "invalid_quantity"
DUPLICATE_RECORD = "duplicate_record"


def _zero() -> dict[str, Decimal]:
    return {name: Decimal(0) for name in FIELDS}


@dataclass
class StockCount:
    """SAP's stock of one material at one gateway location, per position field."""

    sku: str
    location: str
    quantities: dict[str, Decimal] = field(default_factory=_zero)

    @property
    def whole(self) -> bool:
        return all(value == value.to_integral_value() for value in self.quantities.values())

    def as_numbers(self) -> dict[str, int | float]:
        return {name: _number(value) for name, value in self.quantities.items()}


@dataclass
class StockTable:
    """Positions read from SAP, and what was left out (by reason, and which plant/storage
    locations have no gateway location)."""

    positions: dict[tuple[str, str], StockCount] = field(default_factory=dict)
    records: int = 0
    skipped: Counter = field(default_factory=Counter)
    unmapped: Counter = field(default_factory=Counter)
    _seen: set = field(default_factory=set, repr=False)

    def add(self, record: StockRecord, locations: LocationMap) -> None:
        if record.key in self._seen:
            self.skipped[DUPLICATE_RECORD] += 1
            return
        self._seen.add(record.key)
        self.records += 1
        if record.special_stock_type:
            # Consignment, sales-order and project stock are not the plant's own stock.
            self.skipped[SPECIAL_STOCK] += 1
            return
        name = STOCK_FIELDS.get(record.stock_type)
        if name is None:
            self.skipped[UNSUPPORTED_STOCK_TYPE] += 1
            return
        if record.quantity is None:
            self.skipped[INVALID_QUANTITY] += 1
            return
        location = locations.location(record.plant, record.storage_location)
        if location is None:
            self.skipped[UNMAPPED_LOCATION] += 1
            self.unmapped[(record.plant, record.storage_location)] += 1
            return
        count = self.count(record.material, location)
        count.quantities[name] += record.quantity

    def count(self, sku: str, location: str) -> StockCount:
        key = (sku, location)
        if key not in self.positions:
            self.positions[key] = StockCount(sku, location)
        return self.positions[key]

    def unmapped_list(self) -> list[dict]:
        return [
            {"plant": plant, "storage_location": sloc, "records": n}
            for (plant, sloc), n in sorted(self.unmapped.items())
        ]


def counted_event(count: StockCount, read_at: datetime) -> dict:
    """The stock.counted event stating SAP's position as of `read_at`."""
    stamp = iso(read_at)
    quantities = count.as_numbers()
    return {
        "event_id": f"sap-sync:{stamp}:{count.sku}:{count.location}",
        "type": "stock.counted",
        "sku": count.sku,
        "location": count.location,
        "quantity": quantities["on_hand"],
        "counts": {name: quantities[name] for name in ("quality_inspection", "blocked", "in_transit")},
        "occurred_at": stamp,
        "source": SOURCE,
    }


def drift(sap: Iterable[StockCount], gateway: dict[tuple[str, str], dict]) -> list[dict]:
    """Every position field where the gateway's number differs from SAP's (`difference` = SAP − gateway)."""
    differences = []
    for count in sorted(sap, key=lambda c: (c.sku, c.location)):
        held = gateway.get((count.sku, count.location), {})
        for name in FIELDS:
            sap_value = _number(count.quantities[name])
            gateway_value = held.get(name, 0)
            if sap_value != gateway_value:
                differences.append(
                    {
                        "sku": count.sku,
                        "location": count.location,
                        "stock_type": name,
                        "sap": sap_value,
                        "gateway": gateway_value,
                        "difference": sap_value - gateway_value,
                    }
                )
    return differences


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
