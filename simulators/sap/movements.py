"""What each SAP movement type does to stock, held as data (the gateway's mapping follows the same table).

An effect is (sign, plant, storage location, stock type) where plant is "P" (the item's Plant) or
"P2" (IssuingOrReceivingPlant), storage location is "S" or "S2" (IssuingOrReceivingStorageLoc), and
stock type is a fixed code or "T" (the item's InventoryStockType, "01" when blank).
A reversal type (102, 252, …) is the exact opposite of each effect of the type it reverses.

Simplification: stock in transit ("06") of a two-step transfer is kept under the RECEIVING plant and
storage location, so 303/641 put it there and 305 / 101-on-a-transport-order take it from there.
"""

from __future__ import annotations

from dataclasses import dataclass

UNRESTRICTED, QUALITY_INSPECTION, IN_TRANSIT, BLOCKED = "01", "02", "06", "07"
STOCK_TYPE_NAMES = {
    UNRESTRICTED: "SL Unrestricted-use",
    QUALITY_INSPECTION: "SL Quality inspection",
    IN_TRANSIT: "Stock in transit",
    BLOCKED: "SL Blocked stock",
}
ITEM_STOCK_TYPE = "T"


@dataclass(frozen=True)
class Effect:
    sign: int  # +1 adds the item quantity, -1 takes it away
    plant: str  # "P" | "P2"
    storage_location: str  # "S" | "S2"
    stock_type: str  # a stock type code or "T"

    def reversed(self) -> Effect:
        return Effect(-self.sign, self.plant, self.storage_location, self.stock_type)


@dataclass(frozen=True)
class MovementType:
    code: str
    text: str
    effects: tuple[Effect, ...]
    # 101 with IssuingOrReceivingPlant set is the receipt of a stock transport order.
    transport_order_effects: tuple[Effect, ...] | None = None
    reverses: str | None = None  # the movement type this one cancels, if it is a reversal type

    def effects_for(self, *, transport_order: bool) -> tuple[Effect, ...]:
        if transport_order and self.transport_order_effects is not None:
            return self.transport_order_effects
        return self.effects

    @property
    def needs_partner_plant(self) -> bool:
        return any(effect.plant == "P2" for effect in self.effects)

    @property
    def needs_partner_storage_location(self) -> bool:
        return any(effect.storage_location == "S2" for effect in self.effects)


def _e(sign: str, plant: str, sloc: str, stock_type: str) -> Effect:
    return Effect(+1 if sign == "+" else -1, plant, sloc, stock_type)


# code: (text, effects, effects when received against a stock transport order)
_PRIMARY: dict[str, tuple[str, tuple[Effect, ...], tuple[Effect, ...] | None]] = {
    "101": ("Goods receipt", (_e("+", "P", "S", "T"),), (_e("-", "P", "S", IN_TRANSIT), _e("+", "P", "S", "T"))),
    "122": ("Return delivery to vendor", (_e("-", "P", "S", "T"),), None),
    "201": ("Goods issue to cost center", (_e("-", "P", "S", UNRESTRICTED),), None),
    "251": ("Goods issue for sales (POS)", (_e("-", "P", "S", UNRESTRICTED),), None),
    "261": ("Goods issue for order", (_e("-", "P", "S", UNRESTRICTED),), None),
    "301": (
        "Transfer plant to plant, one step",
        (_e("-", "P", "S", UNRESTRICTED), _e("+", "P2", "S2", UNRESTRICTED)),
        None,
    ),
    "303": (
        "Transfer plant to plant, removal (two steps)",
        (_e("-", "P", "S", UNRESTRICTED), _e("+", "P2", "S2", IN_TRANSIT)),
        None,
    ),
    "305": (
        "Transfer plant to plant, placement (two steps)",
        (_e("-", "P", "S", IN_TRANSIT), _e("+", "P", "S", UNRESTRICTED)),
        None,
    ),
    "311": (
        "Transfer storage location to storage location",
        (_e("-", "P", "S", UNRESTRICTED), _e("+", "P", "S2", UNRESTRICTED)),
        None,
    ),
    "321": (
        "Quality inspection to unrestricted",
        (_e("-", "P", "S", QUALITY_INSPECTION), _e("+", "P", "S", UNRESTRICTED)),
        None,
    ),
    "343": ("Blocked to unrestricted", (_e("-", "P", "S", BLOCKED), _e("+", "P", "S", UNRESTRICTED)), None),
    "344": ("Unrestricted to blocked", (_e("-", "P", "S", UNRESTRICTED), _e("+", "P", "S", BLOCKED)), None),
    "349": ("Blocked to quality inspection", (_e("-", "P", "S", BLOCKED), _e("+", "P", "S", QUALITY_INSPECTION)), None),
    "350": ("Quality inspection to blocked", (_e("-", "P", "S", QUALITY_INSPECTION), _e("+", "P", "S", BLOCKED)), None),
    "551": ("Scrapping", (_e("-", "P", "S", "T"),), None),
    "601": ("Goods issue for delivery", (_e("-", "P", "S", UNRESTRICTED),), None),
    "641": (
        "Transfer to stock in transit (stock transport order)",
        (_e("-", "P", "S", UNRESTRICTED), _e("+", "P2", "S2", IN_TRANSIT)),
        None,
    ),
    "651": ("Customer return to quality inspection", (_e("+", "P", "S", QUALITY_INSPECTION),), None),
    "653": ("Customer return to unrestricted", (_e("+", "P", "S", UNRESTRICTED),), None),
    "655": ("Customer return to quality inspection (returns order)", (_e("+", "P", "S", QUALITY_INSPECTION),), None),
    "701": ("Inventory difference, surplus", (_e("+", "P", "S", UNRESTRICTED),), None),
    "702": ("Inventory difference, shortage", (_e("-", "P", "S", UNRESTRICTED),), None),
}

# reversal type: the type it reverses
_REVERSALS = {
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


def _build() -> dict[str, MovementType]:
    table = {code: MovementType(code, text, effects, sto) for code, (text, effects, sto) in _PRIMARY.items()}
    for code, original in _REVERSALS.items():
        base = table[original]
        sto = base.transport_order_effects
        table[code] = MovementType(
            code,
            f"Reversal of {original}: {base.text}",
            tuple(e.reversed() for e in base.effects),
            tuple(e.reversed() for e in sto) if sto else None,
            reverses=original,
        )
    return dict(sorted(table.items()))


MOVEMENT_TYPES: dict[str, MovementType] = _build()


def reversal_type(code: str) -> str | None:
    """The movement type that cancels `code` (type + 1), or None when `code` cannot be cancelled.

    Besides the reversal types above, 343/344, 349/350 and 701/702 cancel each other's first half.
    """
    movement = MOVEMENT_TYPES.get(code)
    if movement is None or movement.reverses is not None:
        return None
    candidate = MOVEMENT_TYPES.get(f"{int(code) + 1:03d}")
    if candidate is None:
        return None
    if candidate.reverses == code:
        return candidate.code
    opposite = {effect.reversed() for effect in movement.effects}
    return candidate.code if set(candidate.effects) == opposite else None


def stock_changes(
    movement_type: str,
    *,
    plant: str,
    storage_location: str,
    partner_plant: str = "",
    partner_storage_location: str = "",
    stock_type: str = "",
) -> list[tuple[str, str, str, int]]:
    """(plant, storage location, stock type, sign) of each effect of one document item.

    The item is a transport-order receipt when it is a 101/102 with IssuingOrReceivingPlant set.
    """
    movement = MOVEMENT_TYPES[movement_type]
    plants = {"P": plant, "P2": partner_plant}
    locations = {"S": storage_location, "S2": partner_storage_location}
    item_type = stock_type or UNRESTRICTED
    return [
        (
            plants[e.plant],
            locations[e.storage_location],
            item_type if e.stock_type == ITEM_STOCK_TYPE else e.stock_type,
            e.sign,
        )
        for e in movement.effects_for(transport_order=bool(partner_plant))
    ]
