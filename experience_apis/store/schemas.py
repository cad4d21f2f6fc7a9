"""Marshmallow schemas of the store experience API: what a store associate sends and sees.
Requests refuse unknown fields (422), as marshmallow does by default."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from experience_apis.fields import Identifier, IncomingSchema, Instant, LineQuantity
from shared.validators import FullMatch

#: Why a customer brought the item back: kept with the store's answer and log line, not in the
#: canonical event (stock.returned has no field for it; its `reason` is an issue reason).
RETURN_REASONS = ("damaged", "defective", "wrong_item", "not_as_described", "no_longer_needed", "other")
INSPECTION_OUTCOMES = ("pass", "fail")
MAX_PAGE = 100
MAX_NEARBY = 50


# -- reads -----------------------------------------------------------------------------------
class StorePositionSchema(Schema):
    store_id = fields.String()
    sku = fields.String()
    as_of = Instant()
    on_hand = fields.Integer(metadata={"description": "unrestricted stock physically in the store"})
    sellable = fields.Integer(metadata={"description": "available to sell for channel store"})
    reserved_for_pickups = fields.Integer(
        metadata={
            "description": "units held here by reservations (pickups, ship-from-store, call-centre holds), fulfilled "
            "ones included until SAP's goods issue takes them"
        }
    )
    in_inspection = fields.Integer(metadata={"description": "returns and receipts awaiting quality inspection"})
    blocked = fields.Integer(metadata={"description": "damaged or blocked"})
    safety_stock = fields.Integer(metadata={"description": "units kept back by the safety-stock rules"})
    allocated_to_other_channels = fields.Integer(metadata={"description": "ring-fenced for other channels"})
    in_transit = fields.Integer(metadata={"description": "units on their way to this store"})
    incoming = fields.List(
        fields.Nested(IncomingSchema),
        metadata={"description": "the transfers in_transit is made of, soonest expected first"},
    )
    status = fields.String(metadata={"description": "in_stock, low_stock or out_of_stock (for channel store)"})


class NearbyQuerySchema(Schema):
    limit = fields.Integer(
        load_default=10,
        validate=validate.Range(1, MAX_NEARBY),
        metadata={"description": "how many of the nearest stores"},
    )


class NearbyStoreSchema(Schema):
    store_id = fields.String()
    name = fields.String()
    distance_km = fields.Float(allow_none=True, metadata={"description": "null: a store without coordinates"})
    sellable = fields.Integer(metadata={"description": "available to sell for channel store"})


class NearbySchema(Schema):
    store_id = fields.String()
    sku = fields.String()
    as_of = Instant(allow_none=True)
    stores = fields.List(fields.Nested(NearbyStoreSchema), metadata={"description": "nearest first"})


class PickupQuerySchema(Schema):
    after = fields.String(
        load_default=None,
        validate=FullMatch(r"^[A-Za-z0-9:_-]{1,100}$"),
        metadata={"description": "page cursor (the previous page's next)"},
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(1, MAX_PAGE))


class PickupLineSchema(Schema):
    sku = fields.String()
    quantity = fields.Integer(metadata={"description": "units held at this store"})


class PickupSchema(Schema):
    reservation_id = fields.String()
    channel = fields.String()
    external_ref = fields.String(metadata={"description": "the order, cart or customer reference"})
    created_at = Instant()
    expires_at = Instant(allow_none=True)
    note = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(PickupLineSchema), metadata={"description": "only what is held here"})


class PickupPageSchema(Schema):
    store_id = fields.String()
    items = fields.List(fields.Nested(PickupSchema), metadata={"description": "newest first"})
    next = fields.String(allow_none=True, metadata={"description": "cursor of the next page (pass as after)"})


# -- writes ----------------------------------------------------------------------------------
class ReturnSchema(Schema):
    return_id = Identifier(required=True, metadata={"description": "the scan's id: a repeat of it counts once"})
    sku = Identifier(required=True)
    quantity = LineQuantity(required=True)
    reason = fields.String(load_default=None, validate=validate.OneOf(RETURN_REASONS))


class InspectionSchema(Schema):
    inspection_id = Identifier(required=True, metadata={"description": "a repeat of it counts once"})
    sku = Identifier(required=True)
    quantity = LineQuantity(required=True)
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(INSPECTION_OUTCOMES),
        metadata={"description": "pass: to sellable stock; fail: to blocked stock"},
    )


class StockMovementSchema(Schema):
    """What became of a return or an inspection: applied now, or a repeat counted before."""

    store_id = fields.String()
    event_id = fields.String(metadata={"description": "the canonical event's id, derived from the store and your id"})
    type = fields.String(
        metadata={"description": "the canonical event: stock.returned, inspection.passed or inspection.failed"}
    )
    outcome = fields.String(
        metadata={
            "description": "applied; duplicate (this id was counted before: the first "
            "request's content counts); or stale (dated before the "
            "store's latest stock count, so already inside it)"
        }
    )
    sku = fields.String()
    quantity = fields.Integer()
    return_id = fields.String()
    reason = fields.String(allow_none=True)
    inspection_id = fields.String()
    inspection_outcome = fields.String()
