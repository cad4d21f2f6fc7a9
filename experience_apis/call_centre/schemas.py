"""Marshmallow schemas of the call-centre experience API: what an agent sends and sees.
Requests refuse unknown fields (422), as marshmallow does by default."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from experience_apis.fields import (
    AtMostReservationTtl,
    Identifier,
    IncomingSchema,
    Instant,
    LineQuantity,
    Lines,
)
from shared.validators import FullMatch, Text

MAX_SKUS = 20
MAX_PAGE = 100
RESERVATION_STATUSES = ("active", "fulfilled", "released", "expired", "consumed")


def TtlSeconds(**kwargs) -> fields.Integer:  # noqa: N802 (a field factory)
    return fields.Integer(
        strict=True,
        validate=[validate.Range(min=1), AtMostReservationTtl("order_reservation_ttl_seconds")],
        metadata={"description": "seconds, 1 to ORDER_RESERVATION_TTL_SECONDS"},
        **kwargs,
    )


# -- availability ----------------------------------------------------------------------------
class AvailabilityQuerySchema(Schema):
    sku = fields.List(
        Identifier(),
        required=True,
        validate=validate.Length(1, MAX_SKUS),
        metadata={"description": f"1 to {MAX_SKUS} SKUs (repeat the parameter)"},
    )


class LocationAvailabilitySchema(Schema):
    location = fields.String()
    name = fields.String()
    type = fields.String(metadata={"description": "dc or store"})
    available_to_sell = fields.Integer()
    available_to_order = fields.Integer(metadata={"description": "available to sell plus stock on its way"})
    in_transit = fields.Integer()
    status = fields.String(metadata={"description": "in_stock, low_stock or out_of_stock"})
    incoming = fields.List(fields.Nested(IncomingSchema), metadata={"description": "soonest expected first"})


class TotalsSchema(Schema):
    available_to_sell = fields.Integer()
    available_to_order = fields.Integer()
    in_transit = fields.Integer()
    next_expected_at = Instant("the soonest ETA of incoming stock", allow_none=True)


class SkuAvailabilitySchema(Schema):
    sku = fields.String()
    total = fields.Nested(TotalsSchema, metadata={"description": "summed over the network"})
    locations = fields.List(
        fields.Nested(LocationAvailabilitySchema), metadata={"description": "every location serving the call centre"}
    )


class NetworkAvailabilitySchema(Schema):
    as_of = Instant(allow_none=True)
    skus = fields.List(fields.Nested(SkuAvailabilitySchema), metadata={"description": "in the order asked"})


# -- reservations ----------------------------------------------------------------------------
class ReservationLineSchema(Schema):
    sku = Identifier(required=True)
    location = Identifier(load_default=None)
    location_group = Identifier(load_default=None)
    quantity = LineQuantity(required=True)

    @validates_schema
    def _one_place(self, data, **_):
        if (data.get("location") is None) == (data.get("location_group") is None):
            raise ValidationError("give exactly one of location or location_group", "location")


class ReservationRequestSchema(Schema):
    agent_id = Identifier(required=True, metadata={"description": "the agent asking; recorded on the reservation"})
    external_ref = Identifier(required=True, metadata={"description": "the customer's or order's reference"})
    lines = Lines(ReservationLineSchema, required=True)
    note = Text(500, load_default=None)
    ttl_seconds = TtlSeconds(load_default=None)


class ReleaseLineSchema(Schema):
    sku = Identifier(required=True)
    location = Identifier(required=True, metadata={"description": "where the units are held (see allocations)"})
    quantity = LineQuantity(load_default=None, metadata={"description": "default: every unit of the line there"})


class ReleaseRequestSchema(Schema):
    lines = Lines(ReleaseLineSchema, load_default=None)


class ExtendRequestSchema(Schema):
    ttl_seconds = TtlSeconds(required=True)


class LookupQuerySchema(Schema):
    external_ref = Identifier(required=True)
    status = fields.String(load_default=None, validate=validate.OneOf(RESERVATION_STATUSES))
    after = fields.String(
        load_default=None,
        validate=FullMatch(r"^[A-Za-z0-9:_-]{1,100}$"),
        metadata={"description": "page cursor (the previous page's next)"},
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(1, MAX_PAGE))


class AllocationSchema(Schema):
    location = fields.String()
    quantity = fields.Integer()


class ReservedLineSchema(Schema):
    sku = fields.String()
    location = fields.String(allow_none=True)
    location_group = fields.String(allow_none=True)
    requested = fields.Integer()
    reserved = fields.Integer()
    allocations = fields.List(fields.Nested(AllocationSchema), metadata={"description": "where the units are held"})


class ReservationSchema(Schema):
    id = fields.String()
    status = fields.String(metadata={"description": "active, fulfilled, released, expired or consumed"})
    external_ref = fields.String()
    agent_id = fields.String(allow_none=True, metadata={"description": "the agent who made it"})
    note = fields.String(allow_none=True)
    created_at = Instant()
    expires_at = Instant(allow_none=True)
    fulfilled_at = Instant(allow_none=True)
    lines = fields.List(fields.Nested(ReservedLineSchema))


class ReservationPageSchema(Schema):
    items = fields.List(fields.Nested(ReservationSchema), metadata={"description": "newest first"})
    next = fields.String(allow_none=True, metadata={"description": "cursor of the next page (pass as after)"})
