"""SAP goods movements as canonical inventory events: the movement-type table, kept as data.

Each row says which canonical events one material document item becomes, so that the gateway's
positions (on_hand = "01", quality_inspection = "02", blocked = "07", in_transit = "06", per mapped
location) move exactly as SAP's stock table does. A row is keyed by movement type and the item's
stock type ("*" when the movement type alone fixes the stock types). "101-sto"/"102-sto" are the
receipt of a stock transport order (a 101/102 naming an issuing plant): its stock leaves transit.

Where one canonical event has the row's effect it is used (251 → stock.issued, reason sale);
where none has, the row has two events, stock.received / stock.issued naming a stock type.
Stock issued only to undo an earlier posting carries no reference: a reference on an
unrestricted issue consumes the reservation of that order, which a correction must not do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from process_apis.inventory.contract import EventType

from .documents import DocumentItem, MaterialDocument
from .locations import LocationMap

ANY = "*"
SOURCE = "sap"
#: SAP stock type (InventoryStockType) → canonical stock type.
STOCK_TYPES = {"01": "unrestricted", "02": "quality_inspection", "07": "blocked", "06": "in_transit"}

# Where an event happens, relative to the item: its Plant/StorageLocation, the
# IssuingOrReceivingPlant/StorageLoc, or the other storage location of the same plant.
HERE, PARTNER, PARTNER_SLOC = "here", "partner", "partner_sloc"

# Dead-letter reasons of items the mapping cannot turn into events.
UNKNOWN_MOVEMENT_TYPE = "unknown_movement_type"
UNSUPPORTED_STOCK_TYPE = "unsupported_stock_type"
UNMAPPED_LOCATION = "unmapped_location"
MISSING_PARTNER_LOCATION = "missing_partner_location"
NON_INTEGER_QUANTITY = "non_integer_quantity"
INVALID_QUANTITY = "invalid_quantity"
MISSING_MATERIAL = "missing_material"
MISSING_POSTING_TIME = "missing_posting_time"


@dataclass(frozen=True)
class Emit:
    """One canonical event an item becomes."""

    type: EventType
    at: str = HERE
    to: str | None = None
    stock_type: str | None = None
    reason: str | None = None
    keeps_reference: bool = True


def _received(stock_type: str = "unrestricted", *, at: str = HERE) -> Emit:
    return Emit(EventType.RECEIVED, at=at, stock_type=stock_type)


def _issued(stock_type: str = "unrestricted", reason: str | None = None, *, at: str = HERE) -> Emit:
    return Emit(EventType.ISSUED, at=at, stock_type=stock_type, reason=reason)


def _undo(stock_type: str = "unrestricted", *, at: str = HERE) -> Emit:
    """Stock leaving because an earlier posting is reversed: no reason, no reference."""
    return Emit(EventType.ISSUED, at=at, stock_type=stock_type, keeps_reference=False)


_UNRESTRICTED, _QI, _BLOCKED, _TRANSIT = "unrestricted", "quality_inspection", "blocked", "in_transit"

MOVEMENTS: dict[tuple[str, str], tuple[Emit, ...]] = {
    # Goods receipt (for a purchase order) lands in the item's stock type; 102 takes it back.
    ("101", "01"): (_received(_UNRESTRICTED),),
    ("101", "02"): (_received(_QI),),
    ("101", "07"): (_received(_BLOCKED),),
    ("102", "01"): (_undo(_UNRESTRICTED),),
    ("102", "02"): (_undo(_QI),),
    ("102", "07"): (_undo(_BLOCKED),),
    # Receipt of a stock transport order: out of transit at the receiving location, into T.
    ("101-sto", "01"): (Emit(EventType.TRANSFER_RECEIVED),),
    ("101-sto", "02"): (_undo(_TRANSIT), _received(_QI)),
    ("101-sto", "07"): (_undo(_TRANSIT), _received(_BLOCKED)),
    ("102-sto", "01"): (_received(_TRANSIT), _undo(_UNRESTRICTED)),
    ("102-sto", "02"): (_received(_TRANSIT), _undo(_QI)),
    ("102-sto", "07"): (_received(_TRANSIT), _undo(_BLOCKED)),
    # Return to vendor, from the item's stock type; 123 reverses it.
    ("122", "01"): (_issued(_UNRESTRICTED, "vendor_return"),),
    ("122", "02"): (_issued(_QI, "vendor_return"),),
    ("122", "07"): (_issued(_BLOCKED, "vendor_return"),),
    ("123", "01"): (_received(_UNRESTRICTED),),
    ("123", "02"): (_received(_QI),),
    ("123", "07"): (_received(_BLOCKED),),
    # Issues from unrestricted stock and their reversals.
    ("201", ANY): (_issued(reason="consumption"),),
    ("202", ANY): (_received(),),
    ("251", ANY): (_issued(reason="sale"),),
    ("252", ANY): (_received(),),
    ("261", ANY): (_issued(reason="consumption"),),
    ("262", ANY): (_received(),),
    ("601", ANY): (_issued(reason="delivery"),),
    ("602", ANY): (_received(),),
    ("702", ANY): (_issued(reason="shrinkage"),),
    ("701", ANY): (_received(),),
    # Scrapping from the item's stock type; 552 reverses it.
    ("551", "01"): (_issued(_UNRESTRICTED, "scrap"),),
    ("551", "02"): (_issued(_QI, "scrap"),),
    ("551", "07"): (_issued(_BLOCKED, "scrap"),),
    ("552", "01"): (_received(_UNRESTRICTED),),
    ("552", "02"): (_received(_QI),),
    ("552", "07"): (_received(_BLOCKED),),
    # Transfers: one step (301 plant to plant, 311 storage location to storage location) ...
    ("301", ANY): (Emit(EventType.TRANSFER_MOVED, to=PARTNER),),
    ("302", ANY): (Emit(EventType.TRANSFER_MOVED, at=PARTNER, to=HERE),),
    ("311", ANY): (Emit(EventType.TRANSFER_MOVED, to=PARTNER_SLOC),),
    ("312", ANY): (Emit(EventType.TRANSFER_MOVED, at=PARTNER_SLOC, to=HERE),),
    # ... and two steps: shipped into transit at the receiver (303, 641), received there (305).
    ("303", ANY): (Emit(EventType.TRANSFER_SHIPPED, to=PARTNER),),
    ("304", ANY): (_received(), _undo(_TRANSIT, at=PARTNER)),
    ("641", ANY): (Emit(EventType.TRANSFER_SHIPPED, to=PARTNER),),
    ("642", ANY): (_received(), _undo(_TRANSIT, at=PARTNER)),
    ("305", ANY): (Emit(EventType.TRANSFER_RECEIVED),),
    ("306", ANY): (_received(_TRANSIT), _undo(_UNRESTRICTED)),
    # Stock type changes within one location.
    ("321", ANY): (Emit(EventType.INSPECTION_PASSED),),
    ("322", ANY): (_received(_QI), _undo(_UNRESTRICTED)),
    ("343", ANY): (Emit(EventType.UNBLOCKED),),
    ("344", ANY): (Emit(EventType.BLOCKED),),
    ("349", ANY): (_undo(_BLOCKED), _received(_QI)),
    ("350", ANY): (Emit(EventType.INSPECTION_FAILED),),
    # Customer returns: into quality inspection (651, 655) or unrestricted (653).
    ("651", ANY): (Emit(EventType.RETURNED),),
    ("652", ANY): (_undo(_QI),),
    ("653", ANY): (_received(),),
    ("654", ANY): (_undo(_UNRESTRICTED),),
    ("655", ANY): (Emit(EventType.RETURNED),),
    ("656", ANY): (_undo(_QI),),
}

KNOWN_MOVEMENT_TYPES = frozenset(key.split("-")[0] for key, _ in MOVEMENTS)
#: Movement types whose 101/102 naming an issuing plant is the receipt of a stock transport order.
_STO_RECEIPTS = frozenset(key for key, _ in MOVEMENTS if key.endswith("-sto"))

# A transfer whose two ends are one gateway location (two storage locations mapped to one
# store) is sent as its two legs: the canonical transfer needs two locations.
_TRANSFER_LEGS = {
    EventType.TRANSFER_MOVED: (EventType.ISSUED, _UNRESTRICTED, EventType.RECEIVED, _UNRESTRICTED),
    EventType.TRANSFER_SHIPPED: (EventType.ISSUED, _UNRESTRICTED, EventType.RECEIVED, _TRANSIT),
}


@dataclass(frozen=True)
class MappedItem:
    """What one document item became: canonical events, or a reason it cannot be applied."""

    item: DocumentItem
    event_id: str
    events: tuple[dict, ...] = ()
    reason: str | None = None
    detail: str | None = None
    counterpart: bool = False

    @property
    def rejected(self) -> bool:
        return self.reason is not None


def event_id(document: MaterialDocument, item: DocumentItem) -> str:
    return f"sap:{document.year}:{document.number}:{item.item}"


def movement_key(item: DocumentItem) -> str:
    key = item.movement_type
    if item.partner_plant and f"{key}-sto" in _STO_RECEIPTS:
        return f"{key}-sto"
    return key


def row_for(item: DocumentItem) -> tuple[Emit, ...] | None:
    """The item's row of MOVEMENTS: for its own stock type (blank is SAP's unrestricted, "01"),
    else for any; None when there is none."""
    key = movement_key(item)
    return MOVEMENTS.get((key, item.stock_type or "01")) or MOVEMENTS.get((key, ANY))


def _no_row(item: DocumentItem) -> tuple[str, str]:
    if item.movement_type in KNOWN_MOVEMENT_TYPES:
        return (UNSUPPORTED_STOCK_TYPE, f"movement type {item.movement_type} cannot post stock type {item.stock_type}")
    return UNKNOWN_MOVEMENT_TYPE, f"movement type {item.movement_type or '(blank)'} has no mapping"


def _sites(item: DocumentItem) -> dict[str, tuple[str, str]]:
    return {
        HERE: (item.plant, item.storage_location),
        PARTNER: (item.partner_plant, item.partner_storage_location),
        PARTNER_SLOC: (item.plant, item.partner_storage_location),
    }


def _resolve(roles: set[str], item: DocumentItem, locations: LocationMap) -> dict[str, str] | tuple[str, str]:
    sites = _sites(item)
    resolved: dict[str, str] = {}
    unmapped: list[str] = []
    for role in sorted(roles):
        plant, sloc = sites[role]
        if role != HERE and not (plant and sloc):
            return MISSING_PARTNER_LOCATION, (
                f"movement type {item.movement_type} needs IssuingOrReceivingPlant and IssuingOrReceivingStorageLoc"
            )
        location = locations.location(plant, sloc)
        if location is None:
            unmapped.append(f"{plant}/{sloc}")
            continue
        resolved[role] = location
    if unmapped:
        return UNMAPPED_LOCATION, f"plant/storage location {', '.join(unmapped)} is not in SAP_LOCATION_MAP"
    return resolved


def _check_item(document: MaterialDocument, item: DocumentItem) -> tuple[str, str] | None:
    if document.occurred_at is None:
        return MISSING_POSTING_TIME, "the document has neither CreationDate nor PostingDate"
    if not item.material:
        return MISSING_MATERIAL, "the item names no Material"
    if item.quantity is None or item.quantity <= 0:
        return INVALID_QUANTITY, f"QuantityInBaseUnit {item.raw_quantity!r} is not a quantity > 0"
    if item.quantity != item.quantity.to_integral_value():
        return NON_INTEGER_QUANTITY, f"QuantityInBaseUnit {item.raw_quantity!r} is not a whole base unit"
    return None


def map_item(document: MaterialDocument, item: DocumentItem, locations: LocationMap) -> MappedItem:
    """The canonical events of one item: `sap:{year}:{doc}:{item}`, then `…:2` for a second."""
    first_id = event_id(document, item)
    if item.automatically_created:
        # SAP's own counterpart line of a transfer; the main line's row already has its effect.
        return MappedItem(item, first_id, counterpart=True)
    problem = _check_item(document, item)
    row = row_for(item) if problem is None else None
    if problem is None and row is None:
        problem = _no_row(item)
    if problem is not None:
        return MappedItem(item, first_id, reason=problem[0], detail=problem[1])
    assert row is not None  # no problem: the item has a row
    roles = {emit.at for emit in row} | {emit.to for emit in row if emit.to}
    resolved = _resolve(roles, item, locations)
    if isinstance(resolved, tuple):
        return MappedItem(item, first_id, reason=resolved[0], detail=resolved[1])
    events = [_event(emit, document, item, resolved) for emit in row]
    events = [leg for event in events for leg in _legs(event)]
    ids = [first_id] + [f"{first_id}:{n}" for n in range(2, len(events) + 1)]
    return MappedItem(item, first_id, events=tuple({**event, "event_id": i} for i, event in zip(ids, events)))


def _event(emit: Emit, document: MaterialDocument, item: DocumentItem, resolved: dict[str, str]) -> dict:
    assert item.quantity is not None and document.occurred_at is not None  # _check_item passed
    event = {
        "type": str(emit.type),
        "sku": item.material,
        "location": resolved[emit.at],
        "quantity": int(item.quantity),
        "occurred_at": _iso(document.occurred_at),
        "source": SOURCE,
    }
    reference = (item.reference or document.reference) if emit.keeps_reference else ""
    optional = {
        "to_location": resolved[emit.to] if emit.to else None,
        "stock_type": emit.stock_type,
        "reason": emit.reason,
        "reference": reference[:128] or None,
    }
    event.update({name: value for name, value in optional.items() if value is not None})
    return event


def _legs(event: dict) -> list[dict]:
    legs = _TRANSFER_LEGS.get(EventType(event["type"]))
    if legs is None or event["location"] != event["to_location"]:
        return [event]
    out_type, out_stock, in_type, in_stock = legs
    base = {key: value for key, value in event.items() if key not in ("to_location", "reference")}
    return [
        {**base, "type": str(out_type), "stock_type": out_stock},
        {**base, "type": str(in_type), "stock_type": in_stock},
    ]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def map_document(document: MaterialDocument, locations: LocationMap) -> list[MappedItem]:
    return [map_item(document, item, locations) for item in document.items]
