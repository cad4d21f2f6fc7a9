"""Marshmallow schemas of the inventory process API: its request and response bodies."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .domain.locations import FULFILMENT_METHODS, LOCATION_TYPES, SOURCING_STRATEGIES
from .service.event_parsing import Identifier

MAX_EVENTS = 1000
# Stored documents keep instants as ISO 8601 text; dump them as they are.
Instant = lambda **kw: fields.String(metadata={"format": "date-time"}, **kw)  # noqa: E731
Channel = lambda **kw: fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$"), **kw)  # noqa: E731


class EventBatchSchema(Schema):
    # Items stay raw here: each is validated on its own and dead-lettered alone if bad.
    events = fields.List(fields.Raw(), required=True, validate=validate.Length(1, MAX_EVENTS))


class EventOutcomeSchema(Schema):
    index = fields.Integer()
    event_id = fields.String(allow_none=True)
    outcome = fields.String()
    reason = fields.String()
    detail = fields.Raw()
    dead_letter_id = fields.String()


class EventBatchResultSchema(Schema):
    received = fields.Integer()
    applied = fields.Integer()
    duplicate = fields.Integer()
    stale = fields.Integer()
    dead_lettered = fields.Integer()
    not_applied = fields.List(fields.Nested(EventOutcomeSchema), metadata={"description": "every item not applied"})


class LocationSchema(Schema):
    id = fields.String(dump_only=True)
    type = fields.String(required=True, validate=validate.OneOf(LOCATION_TYPES))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    region = fields.String(load_default=None, validate=validate.Length(max=100))
    postal_code = fields.String(load_default=None, validate=validate.Length(max=20))
    latitude = fields.Float(load_default=None, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, validate=validate.Range(-180, 180))
    channels = fields.List(Channel(), load_default=list, validate=validate.Length(max=20))
    fulfilment_methods = fields.List(
        fields.String(validate=validate.OneOf(FULFILMENT_METHODS)), load_default=list, validate=validate.Length(max=2)
    )


class LocationGroupSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(load_default="", validate=validate.Length(max=200))
    members = fields.List(Identifier(), required=True, validate=validate.Length(1, 1000))
    channel = Channel(load_default=None)
    sourcing_strategy = fields.String(load_default="priority", validate=validate.OneOf(SOURCING_STRATEGIES))
    fulfilment_method = fields.String(load_default=None, validate=validate.OneOf(FULFILMENT_METHODS))


class _SelectorFields(Schema):
    sku = Identifier(load_default=None)
    category = fields.String(load_default=None, validate=validate.Length(1, 64))
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
    category = fields.String(load_default=None, validate=validate.Length(1, 64))
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
    safety_stock = fields.List(fields.Nested(SafetyStockRuleSchema), load_default=list, validate=validate.Length(max=5000))
    allocations = fields.List(fields.Nested(AllocationRuleSchema), load_default=list, validate=validate.Length(max=5000))
    low_stock = fields.List(fields.Nested(LowStockRuleSchema), load_default=list, validate=validate.Length(max=5000))
    categories = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 64)),
        values=fields.List(fields.String(validate=validate.Length(1, 64)), validate=validate.Length(max=1000)),
        load_default=dict,
    )
    channels_selling_incoming = fields.List(Channel(), load_default=list)
    transit_times = fields.List(fields.Nested(TransitTimeRuleSchema), load_default=list, validate=validate.Length(max=100),
                                metadata={"description": "the ETA of a shipment whose source gave none"})


class RuleSetDocumentSchema(RuleSetSchema):
    version = fields.Integer(dump_only=True)


class AvailabilityQuerySchema(Schema):
    sku = fields.List(Identifier(), required=True, validate=validate.Length(1, 100))
    location = fields.List(Identifier(), load_default=list, validate=validate.Length(max=100))
    location_group = Identifier(load_default=None)
    channel = Channel(load_default=None)
    include = fields.List(fields.String(validate=validate.OneOf(["incoming"])), load_default=list,
                          metadata={"description": "incoming: each position's shipments on the way, with ETAs"})

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
    from_location = fields.String(allow_none=True, metadata={"description": "null: units no shipment on record explains"})
    reference = fields.String(allow_none=True)


class PositionAvailabilitySchema(_Quantities):
    location = fields.String()
    incoming = fields.List(fields.Nested(IncomingSchema), metadata={
        "description": "with include=incoming: the shipments in_transit is made of, soonest expected first"})


class GroupAvailabilitySchema(_Quantities):
    location_group = fields.String()
    locations = fields.List(fields.Nested(PositionAvailabilitySchema))


class AvailabilitySchema(Schema):
    as_of = fields.AwareDateTime()
    channel = fields.String(allow_none=True)
    positions = fields.List(fields.Nested(PositionAvailabilitySchema))
    groups = fields.List(fields.Nested(GroupAvailabilitySchema))


class ReservationLineSchema(Schema):
    sku = Identifier(required=True)
    location = Identifier(load_default=None)
    location_group = Identifier(load_default=None)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=100_000))

    @validates_schema
    def _where(self, data, **_):
        if (data.get("location") is None) == (data.get("location_group") is None):
            raise ValidationError("give exactly one of location or location_group", "location")


ExternalRef = lambda **kw: fields.String(validate=validate.Length(1, 128), **kw)  # noqa: E731
TtlSeconds = lambda description="at most RESERVATION_MAX_TTL_SECONDS", **kw: fields.Integer(  # noqa: E731
    strict=True, validate=validate.Range(min=1), metadata={"description": description}, **kw)
RESERVATION_STATUSES = ("active", "fulfilled", "released", "expired", "consumed")


class ReservationRequestSchema(Schema):
    channel = Channel(required=True)
    external_ref = ExternalRef(required=True)
    ttl_seconds = TtlSeconds(load_default=None)
    allow_partial = fields.Boolean(load_default=False)
    lines = fields.List(fields.Nested(ReservationLineSchema), required=True, validate=validate.Length(1, 100))
    created_by = fields.String(load_default=None, validate=validate.Regexp(r"^[\x21-\x7e]{1,64}$"),
                               metadata={"description": "who asked for it, e.g. a call-centre agent's id"})
    note = fields.String(load_default=None, validate=validate.Length(1, 500))


class ReservationPatchSchema(Schema):
    external_ref = ExternalRef(load_default=None, metadata={"description": "e.g. the order id a cart became"})
    ttl_seconds = TtlSeconds(load_default=None, description="the expiry becomes this many seconds from now "
                                                             "(at most RESERVATION_MAX_TTL_SECONDS)")

    @validates_schema
    def _something(self, data, **_):
        if data.get("external_ref") is None and data.get("ttl_seconds") is None:
            raise ValidationError("give external_ref, ttl_seconds or both", "_schema")


class ReservationQuerySchema(Schema):
    """Exactly one of external_ref or location; unknown parameters are refused."""

    external_ref = ExternalRef(load_default=None, metadata={"description": "every reservation with this reference"})
    location = Identifier(load_default=None, metadata={"description": "active reservations holding stock here"})
    channel = Channel(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(RESERVATION_STATUSES),
                           metadata={"description": "with location only active (the default)"})
    after = fields.String(load_default=None, validate=validate.Regexp(r"^\d{13}:[0-9a-f]{32}$"),
                          metadata={"description": "page cursor (the previous page's next)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))

    @validates_schema
    def _one_index(self, data, **_):
        if (data.get("external_ref") is None) == (data.get("location") is None):
            raise ValidationError("give exactly one of external_ref or location", "external_ref")
        if data.get("location") and data.get("status") not in (None, "active"):
            raise ValidationError("with location only active reservations are listed", "status")


class AllocationSchema(Schema):
    location = fields.String()
    quantity = fields.Integer()


class ReservedLineSchema(Schema):
    sku = fields.String()
    location = fields.String(allow_none=True)
    location_group = fields.String(allow_none=True)
    requested = fields.Integer()
    reserved = fields.Integer()
    allocations = fields.List(fields.Nested(AllocationSchema))


class ShortfallSchema(Schema):
    line = fields.Integer(metadata={"description": "index of the line in the request"})
    sku = fields.String()
    location = fields.String(allow_none=True)
    location_group = fields.String(allow_none=True)
    requested = fields.Integer()
    available = fields.Integer()


class ReservationSchema(Schema):
    id = fields.String()
    status = fields.String(metadata={"description": "active, fulfilled, released, expired or consumed"})
    channel = fields.String()
    external_ref = fields.String()
    created_by = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    allow_partial = fields.Boolean()
    created_at = Instant()
    expires_at = Instant(allow_none=True)
    fulfilled_at = Instant(allow_none=True)
    lines = fields.List(fields.Nested(ReservedLineSchema))
    shortfalls = fields.List(fields.Nested(ShortfallSchema), metadata={"description": "lines not fully reserved (allow_partial)"})


class ReservationPageSchema(Schema):
    items = fields.List(fields.Nested(ReservationSchema), metadata={"description": "newest first"})
    next = fields.String(allow_none=True, metadata={"description": "cursor for the next page (pass as after)"})


class ReleaseLineSchema(Schema):
    sku = Identifier(required=True)
    location = Identifier(required=True)
    quantity = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1))


class ReleaseRequestSchema(Schema):
    lines = fields.List(fields.Nested(ReleaseLineSchema), load_default=None, validate=validate.Length(1, 100))


class ExtendRequestSchema(Schema):
    ttl_seconds = TtlSeconds(required=True)


class DeadLetterSchema(Schema):
    id = fields.String()
    status = fields.String()
    reason = fields.String()
    detail = fields.String()
    payload = fields.Raw()
    source = fields.String()
    correlation_id = fields.String()
    received_at = fields.String()
    attempts = fields.Integer()
    last_error = fields.String()
    closed_at = fields.String()
    discard_reason = fields.String()
    outcome = fields.String()


class DeadLetterQuerySchema(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "redriven", "discarded"]))
    reason = fields.String(load_default=None, validate=validate.Length(1, 64))
    after = fields.String(load_default=None, validate=validate.Length(1, 64), metadata={"description": "page cursor"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class DeadLetterPageSchema(Schema):
    items = fields.List(fields.Nested(DeadLetterSchema))
    next = fields.String(allow_none=True, metadata={"description": "cursor for the next page (pass as after)"})


class ForeignDeadLetterSchema(Schema):
    """An item a system API could not turn into canonical events, with its own reason."""

    reason = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$"))
    detail = fields.String(required=True, validate=validate.Length(1, 2000))
    payload = fields.Raw(required=True, metadata={"description": "the item as the source system sent it"})
    source = fields.String(load_default=None, validate=validate.Length(1, 64))


class ForeignDeadLetterBatchSchema(Schema):
    dead_letters = fields.List(fields.Nested(ForeignDeadLetterSchema), required=True, validate=validate.Length(1, 1000))


class DeadLetterIdsSchema(Schema):
    received = fields.Integer()
    dead_letter_ids = fields.List(fields.String(), metadata={"description": "in request order"})


class DiscardSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))
