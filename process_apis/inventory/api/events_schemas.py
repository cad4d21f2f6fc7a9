"""Bodies of POST /inventory/v1/events: a batch of raw items in, an outcome per item out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..service.ingest import DEAD_LETTER_REASONS

#: What the `reason` of a dead-lettered item may be, for the OpenAPI documents.
REASONS_DESCRIPTION = (
    "why the item was dead-lettered: "
    + ", ".join(DEAD_LETTER_REASONS)
    + " (from_future: occurred_at more than MAX_CLOCK_SKEW_SECONDS ahead of the gateway's clock)"
)

MAX_EVENTS = 1000


class EventBatchSchema(Schema):
    # Items stay raw here: each is validated on its own and dead-lettered alone if bad.
    events = fields.List(fields.Raw(), required=True, validate=validate.Length(1, MAX_EVENTS))


class EventOutcomeSchema(Schema):
    index = fields.Integer()
    event_id = fields.String(allow_none=True)
    outcome = fields.String()
    reason = fields.String(metadata={"description": REASONS_DESCRIPTION})
    detail = fields.Raw()
    dead_letter_id = fields.String()


class EventBatchResultSchema(Schema):
    received = fields.Integer()
    applied = fields.Integer()
    duplicate = fields.Integer()
    stale = fields.Integer()
    dead_lettered = fields.Integer()
    not_applied = fields.List(fields.Nested(EventOutcomeSchema), metadata={"description": "every item not applied"})
