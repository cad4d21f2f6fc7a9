"""The query and the body of GET /inventory/v1/availability."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .common_schemas import Channel, Identifier


class AvailabilityQuerySchema(Schema):
    sku = fields.List(Identifier(), required=True, validate=validate.Length(1, 100))
    location = fields.List(Identifier(), load_default=list, validate=validate.Length(max=100))
    location_group = Identifier(load_default=None)
    channel = Channel(load_default=None)
    include = fields.List(
        fields.String(validate=validate.OneOf(["incoming"])),
        load_default=list,
        metadata={"description": "incoming: each position's shipments on the way, with ETAs"},
    )

    @validates_schema
    def _one_scope(self, data, **_):
        if data.get("location") and data.get("location_group"):
            raise ValidationError("give location or location_group, not both", "location_group")


class _Quantities(Schema):
    sku = fields.String()
    channel = fields.String(allow_none=True)
    on_hand = fields.Integer()
    reserved = fields.Integer()
    safety_stock = fields.Integer()
    allocated = fields.Integer(metadata={"description": "ring-fenced for other channels and not yet used by them"})
    quality_inspection = fields.Integer()
    blocked = fields.Integer()
    in_transit = fields.Integer()
    available_to_sell = fields.Integer()
    available_to_order = fields.Integer()
    negative = fields.Boolean()
    status = fields.String()


class IncomingSchema(Schema):
    quantity = fields.Integer()
    expected_at = fields.AwareDateTime(allow_none=True, metadata={"description": "null: no ETA given nor ruled"})
    from_location = fields.String(
        allow_none=True, metadata={"description": "null: units no shipment on record explains"}
    )
    reference = fields.String(allow_none=True)


class PositionAvailabilitySchema(_Quantities):
    location = fields.String()
    incoming = fields.List(
        fields.Nested(IncomingSchema),
        metadata={"description": "with include=incoming: the shipments in_transit is made of, soonest expected first"},
    )


class GroupAvailabilitySchema(_Quantities):
    location_group = fields.String()
    locations = fields.List(fields.Nested(PositionAvailabilitySchema))


class AvailabilitySchema(Schema):
    as_of = fields.AwareDateTime()
    channel = fields.String(allow_none=True)
    positions = fields.List(fields.Nested(PositionAvailabilitySchema))
    groups = fields.List(fields.Nested(GroupAvailabilitySchema))
