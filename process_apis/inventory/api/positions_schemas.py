"""Bodies of /inventory/v1/positions: an operator's watermark reset in, what it found out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.validators import clean_text

from ..domain.events import STOCK_FIELDS


class WatermarkResetSchema(Schema):
    fields_ = fields.List(
        fields.String(validate=validate.OneOf(STOCK_FIELDS)),
        data_key="fields",
        attribute="fields",
        load_default=lambda: list(STOCK_FIELDS),
        validate=validate.Length(min=1),
        metadata={"description": "the stock fields whose watermark is cleared (default: every one)"},
    )
    reason = fields.String(
        required=True,
        validate=[validate.Length(1, 500), clean_text],
        metadata={"description": "why, kept in the audit log line"},
    )


class FieldWatermarkSchema(Schema):
    field = fields.String()
    before = fields.String(allow_none=True, metadata={"description": "the watermark it had (null: none)"})
    set_by = fields.String(allow_none=True, metadata={"description": "event id of the count that set it"})
    after = fields.String(allow_none=True, metadata={"description": "always null: cleared"})


class HorizonSchema(Schema):
    before = fields.String(allow_none=True)
    after = fields.String(allow_none=True)


class WatermarkResetResultSchema(Schema):
    sku = fields.String()
    location = fields.String()
    reset_at = fields.String(metadata={"description": "the gateway's clock at the reset"})
    reason = fields.String()
    watermarks = fields.List(fields.Nested(FieldWatermarkSchema))
    horizon = fields.Nested(
        HorizonSchema,
        metadata={"description": "oldest moment a count may state (null: none); one past reset_at comes back to it"},
    )
    journal_entries_dropped = fields.Integer(
        metadata={"description": "deltas dated beyond what ingest now accepts, dropped from the journal"}
    )
