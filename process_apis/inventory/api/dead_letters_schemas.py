"""Bodies and queries of /inventory/v1/dead-letters."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.validators import FullMatch


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

    reason = fields.String(required=True, validate=FullMatch(r"^[a-z][a-z0-9_]{0,63}$"))
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
