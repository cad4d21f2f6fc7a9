"""Bodies of /inventory/v1/rules: the rule set as data, and as read back with its version."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.validators import Text

from ..domain.locations import LOCATION_TYPES
from .common_schemas import Channel, Identifier


class _SelectorFields(Schema):
    sku = Identifier(load_default=None)
    category = Text(64, load_default=None)
    location = Identifier(load_default=None)
    location_type = fields.String(load_default=None, validate=validate.OneOf(LOCATION_TYPES))
    channel = Channel(load_default=None)


class SafetyStockRuleSchema(_SelectorFields):
    units = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=0))
    percent = fields.Float(load_default=None, validate=validate.Range(min=0, max=100))

    @validates_schema
    def _one_measure(self, data, **_):
        if (data.get("units") is None) == (data.get("percent") is None):
            raise ValidationError("give exactly one of units or percent", "units")


class AllocationRuleSchema(Schema):
    channel = Channel(required=True)
    units = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))
    sku = Identifier(load_default=None)
    category = Text(64, load_default=None)
    location = Identifier(load_default=None)
    location_group = Identifier(load_default=None)
    starts_at = fields.AwareDateTime(load_default=None)
    ends_at = fields.AwareDateTime(load_default=None)

    @validates_schema
    def _where(self, data, **_):
        if (data.get("location") is None) == (data.get("location_group") is None):
            raise ValidationError("give exactly one of location or location_group", "location")
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class LowStockRuleSchema(_SelectorFields):
    threshold = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))


class TransitTimeRuleSchema(Schema):
    from_location_type = fields.String(load_default=None, validate=validate.OneOf(LOCATION_TYPES))
    to_location_type = fields.String(load_default=None, validate=validate.OneOf(LOCATION_TYPES))
    hours = fields.Float(required=True, validate=validate.Range(min=0, max=24 * 365, min_inclusive=False))


class RuleSetSchema(Schema):
    safety_stock = fields.List(
        fields.Nested(SafetyStockRuleSchema), load_default=list, validate=validate.Length(max=5000)
    )
    allocations = fields.List(
        fields.Nested(AllocationRuleSchema), load_default=list, validate=validate.Length(max=5000)
    )
    low_stock = fields.List(fields.Nested(LowStockRuleSchema), load_default=list, validate=validate.Length(max=5000))
    categories = fields.Dict(
        keys=Text(64),
        values=fields.List(Text(64), validate=validate.Length(max=1000)),
        load_default=dict,
    )
    channels_selling_incoming = fields.List(Channel(), load_default=list)
    transit_times = fields.List(
        fields.Nested(TransitTimeRuleSchema),
        load_default=list,
        validate=validate.Length(max=100),
        metadata={"description": "the ETA of a shipment whose source gave none"},
    )
    max_hold_share = fields.Dict(
        keys=Channel(),
        values=fields.Float(validate=validate.Range(min=0, max=1, min_inclusive=False), allow_nan=False),
        load_default=dict,
        metadata={
            "description": "per channel, the largest share (0 < x <= 1) of what the channel can sell of a SKU "
            "at a location or location group that one cart or order (an external_ref) may hold; a channel "
            "not named has MAX_HOLD_SHARE"
        },
    )


class RuleSetDocumentSchema(RuleSetSchema):
    version = fields.Integer(dump_only=True)
