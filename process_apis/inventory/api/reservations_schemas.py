"""Bodies and queries of /inventory/v1/reservations."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.validators import FullMatch, Text

from .common_schemas import Channel, Identifier

# Stored documents keep instants as ISO 8601 text; dump them as they are.
Instant = lambda **kw: fields.String(metadata={"format": "date-time"}, **kw)  # noqa: E731


class ReservationLineSchema(Schema):
    sku = Identifier(required=True)
    location = Identifier(load_default=None)
    location_group = Identifier(load_default=None)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=100_000))

    @validates_schema
    def _where(self, data, **_):
        if (data.get("location") is None) == (data.get("location_group") is None):
            raise ValidationError("give exactly one of location or location_group", "location")


ExternalRef = lambda **kw: Text(128, **kw)  # noqa: E731
TtlSeconds = lambda description="at most RESERVATION_MAX_TTL_SECONDS", **kw: fields.Integer(  # noqa: E731
    strict=True, validate=validate.Range(min=1), metadata={"description": description}, **kw
)
RESERVATION_STATUSES = ("active", "fulfilled", "released", "expired", "consumed")


class ReservationRequestSchema(Schema):
    channel = Channel(required=True)
    external_ref = ExternalRef(required=True)
    ttl_seconds = TtlSeconds(load_default=None)
    allow_partial = fields.Boolean(load_default=False)
    lines = fields.List(fields.Nested(ReservationLineSchema), required=True, validate=validate.Length(1, 100))
    created_by = fields.String(
        load_default=None,
        validate=FullMatch(r"^[\x21-\x7e]{1,64}$"),
        metadata={"description": "who asked for it, e.g. a call-centre agent's id"},
    )
    note = Text(500, load_default=None)


class ReservationPatchSchema(Schema):
    external_ref = ExternalRef(load_default=None, metadata={"description": "e.g. the order id a cart became"})
    ttl_seconds = TtlSeconds(
        load_default=None,
        description="the expiry becomes this many seconds from now (at most RESERVATION_MAX_TTL_SECONDS)",
    )

    @validates_schema
    def _something(self, data, **_):
        if data.get("external_ref") is None and data.get("ttl_seconds") is None:
            raise ValidationError("give external_ref, ttl_seconds or both", "_schema")


class ReservationQuerySchema(Schema):
    """Exactly one of external_ref or location; unknown parameters are refused."""

    external_ref = ExternalRef(load_default=None, metadata={"description": "every reservation with this reference"})
    location = Identifier(load_default=None, metadata={"description": "active reservations holding stock here"})
    channel = Channel(load_default=None)
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(RESERVATION_STATUSES),
        metadata={"description": "with location only active (the default)"},
    )
    after = fields.String(
        load_default=None,
        validate=FullMatch(r"^\d{13}:[0-9a-f]{32}$"),
        metadata={"description": "page cursor (the previous page's next)"},
    )
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
    shortfalls = fields.List(
        fields.Nested(ShortfallSchema), metadata={"description": "lines not fully reserved (allow_partial)"}
    )


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
