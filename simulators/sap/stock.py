"""The simulated S/4 stock table and material documents: posting a document applies its movements.

Thread-safe (one lock): a document is validated in full, then all its items are applied at once or
none is. Rows are plain dicts keyed by OData property names, so `odata.py` can serialize them as-is.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation

from simulators.sap.entities import DOCUMENT_HEADER, DOCUMENT_ITEM
from simulators.sap.movements import (
    BLOCKED,
    IN_TRANSIT,
    ITEM_STOCK_TYPE,
    MOVEMENT_TYPES,
    QUALITY_INSPECTION,
    STOCK_TYPE_NAMES,
    UNRESTRICTED,
    MovementType,
    reversal_type,
    stock_changes,
)

FIRST_DOCUMENT_NUMBER = 4900000000
GOODS_MOVEMENT_CODES = frozenset({"01", "02", "03", "04", "05", "06", "07"})
STOCK_TYPES = (UNRESTRICTED, QUALITY_INSPECTION, IN_TRANSIT, BLOCKED)
RECEIVING_STOCK_TYPES = frozenset({UNRESTRICTED, QUALITY_INSPECTION, BLOCKED})
# Constant parts of the 11-part A_MatlStkInAcctMod key: no special stocks are simulated.
STOCK_KEY_DEFAULTS = {
    "Supplier": "",
    "Customer": "",
    "WBSElementInternalID": "00000000",
    "SDDocument": "",
    "SDDocumentItem": "000000",
    "InventorySpecialStockType": "",
}
_DATE_JSON = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_ZERO = Decimal("0.000")


class PostingError(Exception):
    """A document SAP would reject: `details` are (code, message) pairs, one per problem found."""

    def __init__(
        self, message: str, *, code: str = "M7/000", status: int = 400, details: Iterable[tuple[str, str]] = ()
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status
        self.details = list(details) or [(code, message)]


@dataclass
class Material:
    material: str
    base_unit: str = "PC"
    conversions: dict[str, Decimal] = field(default_factory=dict)  # alternative unit -> base units per unit

    def to_base(self, quantity: Decimal, unit: str) -> Decimal | None:
        if unit in ("", self.base_unit):
            return quantity
        factor = self.conversions.get(unit)
        return None if factor is None else quantity * factor


@dataclass
class Document:
    header: dict
    items: list[dict]

    @property
    def key(self) -> tuple[str, str]:
        return self.header["MaterialDocumentYear"], self.header["MaterialDocument"]


@dataclass(frozen=True)
class _Line:
    """One validated document item: its movement type and its OData fields."""

    movement: MovementType
    fields: dict


StockKey = tuple[str, str, str, str, str]  # material, plant, storage location, batch, stock type


def quantity3(value: Decimal) -> Decimal:
    return value.quantize(_ZERO)


def parse_date(value) -> datetime:
    """An Edm.DateTime from JSON (`/Date(ms)/`), an ISO string or a datetime, as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value)
    match = _DATE_JSON.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


class StockTable:
    def __init__(
        self,
        *,
        allow_negative_stock: bool = False,
        first_document_number: int = FIRST_DOCUMENT_NUMBER,
        numbers_skipped: Callable[[], int] = lambda: 0,
        time_zone: tzinfo = UTC,
    ) -> None:
        self._lock = threading.RLock()
        #: Numbers the number range skips before the next document (see FaultSettings.skip_number_rate).
        self.numbers_skipped = numbers_skipped
        # The zone the system's clock shows: documents record local dates and times, as S/4 does.
        self.time_zone = time_zone
        self.allow_negative_stock = allow_negative_stock
        self.first_document_number = first_document_number
        self._materials: dict[str, Material] = {}
        self._locations: set[tuple[str, str]] = set()
        self._quantities: dict[StockKey, Decimal] = {}
        self._documents: dict[tuple[str, str], Document] = {}
        self._next_number: dict[str, int] = {}

    # --- master data and direct stock (seeding, admin) -------------------------------------------

    def add_material(
        self,
        material: str,
        base_unit: str = "PC",
        conversions: Mapping[str, object] | Iterable[tuple[str, object]] = (),
    ) -> None:
        with self._lock:
            self._materials[material] = Material(
                material, base_unit, {unit: Decimal(str(f)) for unit, f in dict(conversions).items()}
            )

    def add_storage_location(self, plant: str, storage_location: str) -> None:
        with self._lock:
            self._locations.add((plant, storage_location))

    def set_quantity(
        self, material: str, plant: str, storage_location: str, stock_type: str, quantity, batch: str = ""
    ) -> None:
        """Set one stock row absolutely, registering the material (base unit PC) and location if new."""
        if stock_type not in STOCK_TYPES:
            raise ValueError(f"unknown stock type {stock_type!r}; expected one of {', '.join(STOCK_TYPES)}")
        with self._lock:
            if material not in self._materials:
                self.add_material(material)
            self._locations.add((plant, storage_location))
            self._quantities[(material, plant, storage_location, batch, stock_type)] = quantity3(Decimal(str(quantity)))

    def quantity(
        self, material: str, plant: str, storage_location: str, stock_type: str = UNRESTRICTED, batch: str = ""
    ) -> Decimal:
        with self._lock:
            return self._quantities.get((material, plant, storage_location, batch, stock_type), _ZERO)

    def clear(self) -> None:
        with self._lock:
            self._materials.clear()
            self._locations.clear()
            self._quantities.clear()
            self._documents.clear()
            # The number range is not reset with the data: receivers dedup on document numbers, and a
            # reused number would make a new document look like a redelivered one.

    def materials(self) -> list[Material]:
        with self._lock:
            return [self._materials[m] for m in sorted(self._materials)]

    def storage_locations(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._locations)

    # --- OData rows --------------------------------------------------------------------------------

    def material_rows(self) -> list[dict]:
        with self._lock:
            return [{"Material": m.material, "MaterialBaseUnit": m.base_unit} for m in self.materials()]

    def stock_rows(self) -> list[dict]:
        """Every A_MatlStkInAcctMod row ever touched (a row that went to zero stays, showing 0.000)."""
        with self._lock:
            rows = []
            for (material, plant, sloc, batch, stock_type), quantity in sorted(self._quantities.items()):
                rows.append(
                    {
                        "Material": material,
                        "Plant": plant,
                        "StorageLocation": sloc,
                        "Batch": batch,
                        **STOCK_KEY_DEFAULTS,
                        "InventoryStockType": stock_type,
                        "WBSElementExternalID": "",
                        "MaterialBaseUnit": self._materials[material].base_unit,
                        "MatlWrhsStkQtyInMatlBaseUnit": quantity,
                    }
                )
            return rows

    def document(self, year: str, number: str) -> Document | None:
        with self._lock:
            return self._documents.get((year, number))

    def documents(self) -> list[Document]:
        with self._lock:
            return [self._documents[key] for key in sorted(self._documents)]

    # --- postings ----------------------------------------------------------------------------------

    def post(self, header: Mapping, items: Iterable[Mapping], *, user: str, now: datetime) -> Document:
        """Post a goods movement (the deep insert of A_MaterialDocumentHeader) or raise PostingError."""
        with self._lock:
            fields = self._header_fields(header, now)
            lines, errors = [], []
            for index, item in enumerate(items, start=1):
                try:
                    lines.append(self._line(item))
                except PostingError as error:
                    errors += [(code, f"Item {index:04d}: {message}") for code, message in error.details]
            if not lines and not errors:
                errors.append(("M7/018", "Enter at least one item (to_MaterialDocumentItem)"))
            if errors:
                raise PostingError(errors[0][1], code=errors[0][0], details=errors)
            return self._book(fields, lines, user=user, now=now)

    def cancel(
        self, year: str, number: str, *, item: str | None = None, posting_date=None, user: str, now: datetime
    ) -> Document:
        """Reverse a document (or one item): post movement type + 1 and mark the originals cancelled."""
        with self._lock:
            original = self._documents.get((year, number))
            if original is None:
                raise PostingError(f"Material document {number} {year} does not exist", code="M7/060")
            targets = [i for i in original.items if item is None or i["MaterialDocumentItem"] == item.zfill(4)]
            if not targets:
                raise PostingError(f"Item {item} does not exist in material document {number} {year}", code="M7/061")
            open_items = [i for i in targets if not i["GoodsMovementIsCancelled"]]
            if not open_items:
                raise PostingError(f"Material document {number} {year} has already been cancelled", code="M7/152")
            lines = []
            for original_item in open_items:
                reverse = reversal_type(original_item["GoodsMovementType"])
                if reverse is None or original_item["ReversedMaterialDocument"]:
                    raise PostingError(
                        f"Item {original_item['MaterialDocumentItem']} (movement type "
                        f"{original_item['GoodsMovementType']}) cannot be cancelled",
                        code="M7/153",
                    )
                fields = {
                    name: value
                    for name, value in original_item.items()
                    if name not in ("MaterialDocumentYear", "MaterialDocument", "MaterialDocumentItem")
                }
                fields.update(
                    GoodsMovementType=reverse,
                    GoodsMovementIsCancelled=False,
                    ReversedMaterialDocumentYear=year,
                    ReversedMaterialDocument=number,
                    ReversedMaterialDocumentItem=original_item["MaterialDocumentItem"],
                )
                lines.append(_Line(MOVEMENT_TYPES[reverse], fields))
            header = {
                "GoodsMovementCode": original.header["GoodsMovementCode"],
                "PostingDate": posting_date,  # none given: today on the system's own clock
                "MaterialDocumentHeaderText": original.header["MaterialDocumentHeaderText"],
                "ReferenceDocument": original.header["ReferenceDocument"],
            }
            document = self._book(self._header_fields(header, now), lines, user=user, now=now)
            for original_item in open_items:
                original_item["GoodsMovementIsCancelled"] = True
            return document

    # --- internals ---------------------------------------------------------------------------------

    def _local(self, now: datetime) -> datetime:
        """`now` as the system's wall clock shows it, written as OData v2 writes a zone-less time (as UTC)."""
        return now.astimezone(self.time_zone).replace(tzinfo=UTC)

    def _header_fields(self, header: Mapping, now: datetime) -> dict:
        code = _text(header.get("GoodsMovementCode"))
        if code not in GOODS_MOVEMENT_CODES:
            raise PostingError(f"Goods movement code {code!r} is not supported (expected 01-07)", code="M7/162")
        try:
            posting = (
                _midnight(parse_date(header["PostingDate"]))
                if header.get("PostingDate")
                else _midnight(self._local(now))
            )
            document_date = _midnight(parse_date(header["DocumentDate"])) if header.get("DocumentDate") else posting
        except (ValueError, TypeError, OverflowError):
            raise PostingError(
                "PostingDate/DocumentDate is not a valid Edm.DateTime", code="/IWBEP/CM_MGW_RT/020"
            ) from None
        fields: dict[str, object] = {p.name: "" for p in DOCUMENT_HEADER.properties}
        fields.update(
            PostingDate=posting,
            DocumentDate=document_date,
            GoodsMovementCode=code,
            MaterialDocumentYear=str(posting.year),
            MaterialDocumentHeaderText=_text(header.get("MaterialDocumentHeaderText"))[:25],
            ReferenceDocument=_text(header.get("ReferenceDocument"))[:16],
        )
        return fields

    def _line(self, item: Mapping) -> _Line:
        errors: list[tuple[str, str]] = []
        movement_code = _text(item.get("GoodsMovementType"))
        movement = MOVEMENT_TYPES.get(movement_code)
        if movement is None:
            raise PostingError(f"Movement type {movement_code or '(empty)'} does not exist", code="M7/006")
        material_id = _text(item.get("Material"))
        plant, sloc = _text(item.get("Plant")), _text(item.get("StorageLocation"))
        partner_plant = _text(item.get("IssuingOrReceivingPlant"))
        partner_sloc = _text(item.get("IssuingOrReceivingStorageLoc"))
        material = self._materials.get(material_id)
        if material is None:
            errors.append(("M7/001", f"Material {material_id or '(empty)'} does not exist"))
        if (plant, sloc) not in self._locations:
            errors.append(("M7/002", f"Storage location {plant or '(empty)'} {sloc or '(empty)'} does not exist"))
        if movement.needs_partner_plant or movement.needs_partner_storage_location:
            target_plant = partner_plant if movement.needs_partner_plant else plant
            if movement.needs_partner_plant and not partner_plant:
                errors.append(("M7/004", f"Movement type {movement_code} needs IssuingOrReceivingPlant"))
            elif not partner_sloc:
                errors.append(("M7/005", f"Movement type {movement_code} needs IssuingOrReceivingStorageLoc"))
            elif (target_plant, partner_sloc) not in self._locations:
                errors.append(("M7/002", f"Storage location {target_plant} {partner_sloc} does not exist"))
        stock_type = _text(item.get("InventoryStockType"))
        uses_item_type = any(e.stock_type == ITEM_STOCK_TYPE for e in movement.effects)
        if stock_type and uses_item_type and stock_type not in RECEIVING_STOCK_TYPES:
            errors.append(("M7/007", f"Stock type {stock_type} is not allowed for movement type {movement_code}"))
        entry_quantity = self._quantity(item.get("QuantityInEntryUnit", item.get("QuantityInBaseUnit")), errors)
        entry_unit = _text(item.get("EntryUnit")) or (material.base_unit if material else "")
        base_quantity = None
        if material is not None and entry_quantity is not None:
            base_quantity = material.to_base(entry_quantity, entry_unit)
            if base_quantity is None:
                errors.append(("M7/008", f"Unit {entry_unit} is not defined for material {material_id}"))
        if errors:
            raise PostingError(errors[0][1], code=errors[0][0], details=errors)
        # Any of them missing has added an error above.
        assert material is not None and entry_quantity is not None and base_quantity is not None
        fields: dict[str, object] = {p.name: "" for p in DOCUMENT_ITEM.properties}
        fields.update({name: _text(item.get(name)) for name in fields if item.get(name) is not None})
        fields.update(
            GoodsMovementType=movement_code,
            Material=material_id,
            Plant=plant,
            StorageLocation=sloc,
            IssuingOrReceivingPlant=partner_plant,
            IssuingOrReceivingStorageLoc=partner_sloc,
            InventoryStockType=stock_type,
            QuantityInEntryUnit=quantity3(entry_quantity),
            EntryUnit=entry_unit,
            QuantityInBaseUnit=quantity3(base_quantity),
            MaterialBaseUnit=material.base_unit,
            GoodsMovementIsCancelled=False,
            ReversedMaterialDocumentYear="",
            ReversedMaterialDocument="",
            ReversedMaterialDocumentItem="",
        )
        return _Line(movement, fields)

    @staticmethod
    def _quantity(raw, errors: list) -> Decimal | None:
        try:
            quantity = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            errors.append(("M7/009", f"Quantity {raw!r} is not a number"))
            return None
        if not quantity.is_finite() or quantity <= 0:
            errors.append(("M7/010", f"Quantity {raw} must be greater than zero"))
            return None
        if quantity != quantity3(quantity):
            errors.append(("M7/011", f"Quantity {raw} has more than 3 decimal places"))
            return None
        return quantity

    @staticmethod
    def _deltas(line: _Line) -> list[tuple[StockKey, Decimal]]:
        f = line.fields
        changes = stock_changes(
            line.movement.code,
            plant=f["Plant"],
            storage_location=f["StorageLocation"],
            partner_plant=f["IssuingOrReceivingPlant"],
            partner_storage_location=f["IssuingOrReceivingStorageLoc"],
            stock_type=f["InventoryStockType"],
        )
        return [
            ((f["Material"], plant, sloc, f["Batch"], stock_type), sign * f["QuantityInBaseUnit"])
            for plant, sloc, stock_type, sign in changes
        ]

    def _book(self, header: dict, lines: list[_Line], *, user: str, now: datetime) -> Document:
        net: dict[StockKey, Decimal] = {}
        for line in lines:
            for key, delta in self._deltas(line):
                net[key] = net.get(key, _ZERO) + delta
            if not line.fields["InventoryStockType"]:
                # Show the stock type the item posted into at its own plant/location.
                own = [
                    k
                    for k, _ in self._deltas(line)
                    if (k[1], k[2]) == (line.fields["Plant"], line.fields["StorageLocation"])
                ]
                line.fields["InventoryStockType"] = own[-1][4]
        deficits = []
        for key, delta in net.items():
            result = self._quantities.get(key, _ZERO) + delta
            if delta < 0 and result < 0 and not (self.allow_negative_stock and key[4] == UNRESTRICTED):
                material, plant, sloc, _, stock_type = key
                unit = self._materials[material].base_unit
                deficits.append(
                    (
                        "M7/021",
                        f"Deficit of {STOCK_TYPE_NAMES[stock_type]} {-result.normalize():f} "
                        f"{unit} : {material} {plant} {sloc}",
                    )
                )
        if deficits:
            raise PostingError(deficits[0][1], code="M7/021", details=deficits)
        year = header["MaterialDocumentYear"]
        # MaterialDocument is 10 characters, numbers zero-padded (SAP's ALPHA conversion)
        drawn = self._next_number.get(year, self.first_document_number) + self.numbers_skipped()
        number = f"{drawn:010d}"
        self._next_number[year] = drawn + 1
        local = self._local(now)
        header.update(
            MaterialDocument=number,
            CreationDate=_midnight(local),
            CreatedByUser=user[:12],
            CreationTime=time(local.hour, local.minute, local.second),
        )
        items = []
        for position, line in enumerate(lines, start=1):
            items.append(
                {
                    **line.fields,
                    "MaterialDocumentYear": year,
                    "MaterialDocument": number,
                    "MaterialDocumentItem": f"{position:04d}",
                }
            )
        for key, delta in net.items():
            self._quantities[key] = self._quantities.get(key, _ZERO) + delta
        document = Document(header, items)
        self._documents[document.key] = document
        return document
