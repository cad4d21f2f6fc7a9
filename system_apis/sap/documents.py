"""SAP's OData v2 records as plain values: material documents with their items, and stock records.

OData v2 JSON writes Edm.DateTime as `/Date(<ms since epoch>)/`, Edm.Time as `PT10H15M00S` and
Edm.Decimal as a string ("5.000"); ISO 8601 text is accepted too. A material document's dates and
times carry no time zone: they are the SAP system's local time (an on-premise S/4 often posts in its
plants' zone), so the gateway reads them in SAP_TIME_ZONE and turns them into UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

_ODATA_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_ODATA_TIME = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


def parse_datetime(value) -> datetime | None:
    """An Edm.DateTime (`/Date(ms)/` or ISO text) as an aware UTC datetime; None when blank."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        match = _ODATA_DATE.match(value)
        if match:
            # The milliseconds are UTC; an Edm.DateTimeOffset's "+0060" only says the writer's zone.
            return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def parse_time(value) -> timedelta | None:
    """An Edm.Time (`PT10H15M00S`, or `10:15:00`) as the time since midnight; None when blank."""
    if value in (None, "") or not isinstance(value, str):
        return None
    match = _ODATA_TIME.match(value)
    if match:
        hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
        return timedelta(hours=hours, minutes=minutes, seconds=seconds)
    try:
        clock = time.fromisoformat(value)
    except ValueError:
        return None
    return timedelta(hours=clock.hour, minutes=clock.minute, seconds=clock.second, microseconds=clock.microsecond)


def parse_quantity(value) -> Decimal | None:
    """An Edm.Decimal (string or number) as a Decimal; None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        quantity = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return quantity if quantity.is_finite() else None


def _text(record: dict, name: str) -> str:
    value = record.get(name)
    return str(value).strip() if value not in (None, "") else ""


def plain_record(record: dict) -> dict:
    """The record without OData bookkeeping (`__metadata`, deferred navigation properties)."""
    return {
        key: value
        for key, value in record.items()
        if not key.startswith("__")
        and not (isinstance(value, dict) and "__deferred" in value)
        and not key.startswith("to_")
    }


@dataclass(frozen=True)
class DocumentItem:
    """One line of a material document, with the SAP fields the mapping reads."""

    item: str
    material: str
    plant: str
    storage_location: str
    movement_type: str
    stock_type: str
    partner_plant: str
    partner_storage_location: str
    quantity: Decimal | None
    raw_quantity: object
    reference: str
    automatically_created: bool
    record: dict = field(repr=False)

    @classmethod
    def from_odata(cls, record: dict) -> DocumentItem:
        reference = next(
            (_text(record, name) for name in ("Delivery", "SalesOrder", "PurchaseOrder") if _text(record, name)), ""
        )
        return cls(
            item=_text(record, "MaterialDocumentItem"),
            material=_text(record, "Material"),
            plant=_text(record, "Plant"),
            storage_location=_text(record, "StorageLocation"),
            movement_type=_text(record, "GoodsMovementType"),
            stock_type=_text(record, "InventoryStockType"),
            partner_plant=_text(record, "IssuingOrReceivingPlant"),
            partner_storage_location=_text(record, "IssuingOrReceivingStorageLoc"),
            quantity=parse_quantity(record.get("QuantityInBaseUnit")),
            raw_quantity=record.get("QuantityInBaseUnit"),
            reference=reference,
            automatically_created=_text(record, "IsAutomaticallyCreated").upper() in ("X", "TRUE"),
            record=plain_record(record),
        )


@dataclass(frozen=True)
class MaterialDocument:
    year: str
    number: str
    #: CreationDate + CreationTime, else PostingDate (midnight), SAP's local time turned into UTC;
    #: None when SAP gave neither.
    occurred_at: datetime | None
    reference: str
    items: tuple[DocumentItem, ...]

    @classmethod
    def from_odata(cls, header: dict, items: list[dict], time_zone: tzinfo = UTC) -> MaterialDocument:
        """The document of an OData header and its items; `time_zone` is the one SAP posts in."""
        return cls(
            year=_text(header, "MaterialDocumentYear"),
            number=_text(header, "MaterialDocument"),
            occurred_at=document_time(header, time_zone),
            reference=_text(header, "ReferenceDocument"),
            items=tuple(DocumentItem.from_odata(record) for record in items),
        )


def document_time(header: dict, time_zone: tzinfo = UTC) -> datetime | None:
    """When the document was entered, in UTC: SAP's local date and time read in `time_zone`.

    An Edm.DateTime date field holds the local date at midnight "UTC" (OData v2 has no zone), so
    only its date counts; the wall time is then placed in `time_zone` (a wall time a DST change
    skips or repeats is read as zoneinfo's first reading)."""
    created = parse_datetime(header.get("CreationDate"))
    if created is not None:
        local = datetime.combine(created.date(), time()) + (parse_time(header.get("CreationTime")) or timedelta())
        return local.replace(tzinfo=time_zone).astimezone(UTC)
    posted = parse_datetime(header.get("PostingDate"))
    if posted is not None:
        return datetime.combine(posted.date(), time(), time_zone).astimezone(UTC)
    return None


STOCK_KEY = (
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
)


@dataclass(frozen=True)
class StockRecord:
    """One A_MatlStkInAcctMod record: a quantity of one material, plant, storage location, stock type."""

    material: str
    plant: str
    storage_location: str
    stock_type: str
    special_stock_type: str
    quantity: Decimal | None
    #: The entity's key; a record met twice (pages shifting under a concurrent posting) counts once.
    key: tuple = ()

    @classmethod
    def from_odata(cls, record: dict) -> StockRecord:
        return cls(
            key=tuple(_text(record, name) for name in STOCK_KEY),
            material=_text(record, "Material"),
            plant=_text(record, "Plant"),
            storage_location=_text(record, "StorageLocation"),
            stock_type=_text(record, "InventoryStockType"),
            special_stock_type=_text(record, "InventorySpecialStockType"),
            quantity=parse_quantity(record.get("MatlWrhsStkQtyInMatlBaseUnit")),
        )


def odata_literal(value: str) -> str:
    """A string as an OData v2 literal: quoted, single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"
