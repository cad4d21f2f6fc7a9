"""Bodies and queries of /inventory/v1/dead-letters."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.validators import FullMatch, Text

from ..contract import MAX_DEAD_LETTER_DETAIL
from .events_schemas import REASONS_DESCRIPTION


class DeadLetterSchema(Schema):
    id = fields.String()
    status = fields.String()
    reason = fields.String(
        metadata={"description": REASONS_DESCRIPTION + "; or a system API's own (e.g. SAP's unmapped_location)"}
    )
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
    reason = Text(64, load_default=None)
    after = Text(64, load_default=None, metadata={"description": "page cursor"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class DeadLetterPageSchema(Schema):
    items = fields.List(fields.Nested(DeadLetterSchema))
    next = fields.String(allow_none=True, metadata={"description": "cursor for the next page (pass as after)"})


class ForeignDeadLetterSchema(Schema):
    """An item a system API could not turn into canonical events, with its own reason."""

    reason = fields.String(required=True, validate=FullMatch(r"^[a-z][a-z0-9_]{0,63}$"))
    detail = Text(MAX_DEAD_LETTER_DETAIL, required=True)
    payload = fields.Raw(required=True, metadata={"description": "the item as the source system sent it"})
    source = Text(64, load_default=None)


class ForeignDeadLetterBatchSchema(Schema):
    dead_letters = fields.List(fields.Nested(ForeignDeadLetterSchema), required=True, validate=validate.Length(1, 1000))


class DeadLetterIdsSchema(Schema):
    received = fields.Integer()
    dead_letter_ids = fields.List(fields.String(), metadata={"description": "in request order"})


class DiscardSchema(Schema):
    reason = Text(500, required=True)
