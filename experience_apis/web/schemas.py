"""Marshmallow schemas of the web experience API: what the web shop sends and what it is shown
(bands and capped quantities only, never stock figures)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from experience_apis.fields import IDENTIFIER, Instant
from shared.validators import FullMatch

from .bands import BANDS

MAX_SKUS = 50
#: The schema's bound of a hold; MAX_LINES_PER_RESERVATION (usually lower) is checked on top of it.
MAX_LINES = 100
#: Cart, order and hold ids, as the issue fixes them.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
#: SKUs and store ids, as the process API names them.
INVENTORY_ID_PATTERN = IDENTIFIER.pattern
POSTAL_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$"
FULFILMENTS = ("ship", "pickup")

Sku = lambda **kw: fields.String(validate=FullMatch(INVENTORY_ID_PATTERN), **kw)  # noqa: E731
BAND_DESCRIPTION = (
    "in_stock / low_stock: sellable now; backorder: none sellable now, but incoming stock may be ordered; out_of_stock"
)
Band = lambda description=BAND_DESCRIPTION, **kw: fields.String(  # noqa: E731
    metadata={"enum": list(BANDS), "description": description}, **kw
)


def Quantity(**kw) -> fields.String:  # noqa: N802 (a field factory, named like the fields it makes)
    return fields.String(
        metadata={
            "description": 'units as the shop shows them: "0" to the cap as a number, "10+" above a cap of 10',
            "example": "10+",
        },
        **kw,
    )


# availability ------------------------------------------------------------------------------------
class AvailabilityQuerySchema(Schema):
    sku = fields.List(
        Sku(),
        required=True,
        validate=validate.Length(1, MAX_SKUS),
        metadata={"description": f"1 to {MAX_SKUS} SKUs: repeat the parameter (?sku=A&sku=B)"},
    )
    postal_code = fields.String(
        load_default=None,
        validate=FullMatch(POSTAL_CODE_PATTERN),
        metadata={
            "description": "the shopper's postal code: lists pickup stores near it. A code not in the table "
            "counts as the known code sharing its longest prefix (at least 2 characters); "
            "none → 422"
        },
    )


class PickupStoreSchema(Schema):
    store = fields.String(metadata={"description": "store id (use it to hold stock for pickup)"})
    name = fields.String()
    distance_km = fields.Float(metadata={"description": "from the postal code's centre, rounded to 0.1 km"})
    status = Band()
    quantity = Quantity()


class SkuAvailabilitySchema(Schema):
    sku = fields.String()
    status = Band(f"the web shipping network's band (ship to home). {BAND_DESCRIPTION}")
    quantity = Quantity()
    ship_to_home = fields.Boolean(
        metadata={"description": "whether it can be ordered for delivery now (in_stock, low_stock or backorder)"}
    )
    pickup_stores = fields.List(
        fields.Nested(PickupStoreSchema),
        allow_none=True,
        metadata={
            "description": "web pickup stores within WEB_PICKUP_RADIUS_KM, nearest first, whatever their band; "
            "null without postal_code"
        },
    )


class WebAvailabilitySchema(Schema):
    postal_code = fields.String(allow_none=True, metadata={"description": "as asked (normalised)"})
    matched_postal_code = fields.String(
        allow_none=True,
        metadata={
            "description": "the table's code whose centre distances are measured from (differs when matched by prefix)"
        },
    )
    items = fields.List(fields.Nested(SkuAvailabilitySchema), metadata={"description": "one per SKU, as asked"})


# holds -------------------------------------------------------------------------------------------
class HoldLineSchema(Schema):
    sku = Sku(required=True)
    quantity = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1),
        metadata={"description": "at most MAX_UNITS_PER_LINE"},
    )


class HoldRequestSchema(Schema):
    lines = fields.List(
        fields.Nested(HoldLineSchema),
        required=True,
        validate=validate.Length(1, MAX_LINES),
        metadata={"description": "at most MAX_LINES_PER_RESERVATION lines, each SKU once"},
    )
    fulfilment = fields.String(
        required=True,
        validate=validate.OneOf(FULFILMENTS),
        metadata={"description": "ship: from the web shipping network; pickup: at `store`"},
    )
    store = fields.String(
        load_default=None,
        validate=FullMatch(INVENTORY_ID_PATTERN),
        metadata={"description": "pickup only: a web pickup store's id"},
    )

    @validates_schema
    def _store_for_pickup(self, data, **_):
        if data.get("fulfilment") == "pickup" and not data.get("store"):
            raise ValidationError("required for pickup", "store")
        if data.get("fulfilment") == "ship" and data.get("store"):
            raise ValidationError("only for pickup", "store")


class HeldLineSchema(Schema):
    sku = fields.String()
    quantity = fields.Integer(metadata={"description": "units held for this cart"})


class HoldSchema(Schema):
    id = fields.String()
    cart_id = fields.String()
    status = fields.String(metadata={"description": "active, released or expired"})
    fulfilment = fields.String(metadata={"enum": list(FULFILMENTS)})
    store = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(HeldLineSchema))
    created_at = Instant()
    expires_at = Instant(allow_none=True)


class HoldListSchema(Schema):
    items = fields.List(fields.Nested(HoldSchema), metadata={"description": "the cart's active holds, oldest first"})


# checkout ----------------------------------------------------------------------------------------
class CheckoutRequestSchema(Schema):
    order_id = fields.String(required=True, validate=FullMatch(ID_PATTERN))


class OrderLineSchema(Schema):
    sku = fields.String()
    quantity = fields.Integer()
    fulfilment = fields.String(metadata={"enum": list(FULFILMENTS)})
    store = fields.String(allow_none=True)


class CheckoutSchema(Schema):
    order_id = fields.String()
    reservation_ids = fields.List(fields.String(), metadata={"description": "the cart's holds, now the order's"})
    lines = fields.List(fields.Nested(OrderLineSchema), metadata={"description": "units held for the order"})
    expires_at = Instant(
        "when the first of the order's reservations lapses unless fulfilled "
        "(ORDER_RESERVATION_TTL_SECONDS from checkout)"
    )
