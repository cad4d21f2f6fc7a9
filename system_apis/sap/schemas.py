"""Marshmallow schemas of the SAP system API: its request and response bodies."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.validators import FullMatch, Text

from .locations import LOCATION_ID

Identifier = lambda **kw: fields.String(validate=FullMatch(LOCATION_ID), **kw)  # noqa: E731
SapCode = lambda **kw: fields.String(validate=FullMatch(r"^[0-9A-Za-z_-]{1,40}$"), **kw)  # noqa: E731


def Quantity(description: str | None = None) -> fields.Raw:  # noqa: N802 (a field factory, like Identifier)
    """Whole base units as an integer, or a decimal where SAP holds a fraction of one."""
    return fields.Raw(metadata={"type": "number", **({"description": description} if description else {})})


class MaterialDocumentCreatedDataSchema(Schema):
    MaterialDocumentYear = fields.String(required=True, metadata={"example": "2026"})
    MaterialDocument = fields.String(required=True, metadata={"example": "4900000123"})


class CloudEventSchema(Schema):
    """A CloudEvent 1.0 in structured mode. In binary mode the attributes travel as `ce-*` headers
    and `data` is the whole body."""

    specversion = fields.String(required=True, metadata={"example": "1.0"})
    id = fields.String(required=True)
    source = fields.String(required=True, metadata={"example": "/default/sap.s4.beh/0000000000"})
    type = fields.String(
        required=True, metadata={"example": "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1"}
    )
    time = fields.String(metadata={"format": "date-time"})
    datacontenttype = fields.String(metadata={"example": "application/json"})
    data = fields.Nested(MaterialDocumentCreatedDataSchema)


class NotAppliedSchema(Schema):
    index = fields.Integer()
    event_id = fields.String(allow_none=True)
    outcome = fields.String()
    reason = fields.String()
    detail = fields.Raw()
    dead_letter_id = fields.String()


class RejectedItemSchema(Schema):
    item = fields.String(metadata={"description": "MaterialDocumentItem"})
    event_id = fields.String()
    movement_type = fields.String()
    reason = fields.String(
        metadata={
            "description": "unknown_movement_type, unsupported_stock_type, "
            "unmapped_location, missing_partner_location, "
            "non_integer_quantity, invalid_quantity, ..."
        }
    )
    detail = fields.String()
    dead_letter_id = fields.String()


class DocumentKeySchema(Schema):
    year = fields.String()
    number = fields.String()


class DocumentResultSchema(Schema):
    material_document = fields.Nested(DocumentKeySchema)
    document_items = fields.Integer(metadata={"description": "items in the material document"})
    counterpart_items = fields.Integer(
        metadata={"description": "SAP's automatic counterpart lines of transfers, whose effect their main line carries"}
    )
    events = fields.Integer(metadata={"description": "canonical events sent to the process API"})
    applied = fields.Integer()
    duplicate = fields.Integer()
    stale = fields.Integer()
    dead_lettered = fields.Integer(
        metadata={"description": "events the process API dead-lettered plus items this API dead-lettered"}
    )
    not_applied = fields.List(fields.Nested(NotAppliedSchema))
    rejected_items = fields.List(fields.Nested(RejectedItemSchema))


class BusinessEventResultSchema(DocumentResultSchema):
    status = fields.String(metadata={"description": "processed, or ignored (202) for other event types"})
    cloud_event_id = fields.String()
    type = fields.String()
    cancelled_document = fields.Nested(
        DocumentKeySchema, metadata={"description": "MaterialDocument.Canceled: the document it names"}
    )
    reversal_documents = fields.List(
        fields.Nested(DocumentResultSchema),
        metadata={
            "description": "MaterialDocument.Canceled: the reversal documents SAP posted for it, each applied as "
            "its own Created event would be (a reversal reached by both counts once)"
        },
    )


class StockSyncRequestSchema(Schema):
    plants = fields.List(
        SapCode(),
        load_default=None,
        validate=validate.Length(1, 500),
        metadata={"description": "only these plants (every location they feed is read in full)"},
    )
    materials = fields.List(
        Text(40),
        load_default=None,
        validate=validate.Length(1, 10000),
        metadata={"description": "only these materials"},
    )
    report_drift = fields.Boolean(
        load_default=False, metadata={"description": "list where the gateway differed from SAP before the sync"}
    )


class SyncEventsSchema(Schema):
    sent = fields.Integer()
    applied = fields.Integer()
    duplicate = fields.Integer()
    stale = fields.Integer()
    dead_lettered = fields.Integer()


class UnmappedSchema(Schema):
    plant = fields.String()
    storage_location = fields.String()
    records = fields.Integer()


class DriftSchema(Schema):
    sku = fields.String()
    location = fields.String()
    stock_type = fields.String(metadata={"description": "on_hand, quality_inspection, blocked or in_transit"})
    sap = Quantity()
    gateway = Quantity()
    difference = Quantity("sap − gateway")


class StockSyncResultSchema(Schema):
    read_at = fields.String(metadata={"format": "date-time", "description": "the counts' occurred_at"})
    records_read = fields.Integer()
    positions = fields.Integer()
    events = fields.Nested(SyncEventsSchema)
    not_applied = fields.List(fields.Nested(NotAppliedSchema))
    skipped_records = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "records counted towards no position, by reason"},
    )
    unmapped = fields.List(fields.Nested(UnmappedSchema))
    drift = fields.List(fields.Nested(DriftSchema))


class StockQuerySchema(Schema):
    sku = Identifier(required=True, metadata={"description": "the SAP material"})
    location = Identifier(load_default=None)


class StockPositionSchema(Schema):
    location = fields.String()
    on_hand = Quantity("unrestricted-use stock (SAP stock type 01)")
    quality_inspection = Quantity("stock type 02")
    blocked = Quantity("stock type 07")
    in_transit = Quantity("stock type 06")


class StockSchema(Schema):
    sku = fields.String()
    as_of = fields.String(metadata={"format": "date-time"})
    positions = fields.List(fields.Nested(StockPositionSchema))
    unmapped = fields.List(fields.Nested(UnmappedSchema))
