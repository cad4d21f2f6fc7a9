"""Marshmallow schemas of the Salesforce system API: the availability outcomes the publisher sends
out, and the Omnichannel Inventory (OCI) shaped requests Salesforce sends in. OCI's field names
are kept as OCI spells them; whole units only (OCI sends quantities as doubles: 2.0 is 2, 2.5 is
refused)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from process_apis.inventory.contract import IDENTIFIER
from shared.validators import FullMatch, Text

MAX_OUTCOMES = 1000
MAX_OCI_ITEMS = 100
MAX_QUANTITY = 100_000
#: OCI caps a reservation's lifetime at four hours.
MAX_EXPIRATION_SECONDS = 14400

Identifier = lambda **kw: fields.String(validate=FullMatch(IDENTIFIER), **kw)  # noqa: E731
Channel = lambda **kw: fields.String(validate=FullMatch(r"^[a-z][a-z0-9_]{0,31}$"), **kw)  # noqa: E731
ActionRequestId = lambda **kw: fields.String(validate=FullMatch(r"^[\x21-\x7e]{1,128}$"), **kw)  # noqa: E731
Identifiers = lambda **kw: fields.List(Identifier(), validate=validate.Length(1, MAX_OCI_ITEMS), **kw)  # noqa: E731


class WholeUnits(fields.Integer):
    """A quantity OCI sends as a double: 2 or 2.0 is 2; 2.5 is refused rather than cut to 2."""

    default_error_messages = {"fraction": "Must be a whole number of units."}

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("fraction")
        return super()._validated(value)


Quantity = lambda **kw: WholeUnits(validate=validate.Range(min=1, max=MAX_QUANTITY), **kw)  # noqa: E731


def _exactly_one(data: dict, first: str, second: str) -> None:
    if (data.get(first) is None) == (data.get(second) is None):
        raise ValidationError(f"give exactly one of {first} or {second}", first)


# -- outbound: availability outcomes -------------------------------------------------------
class OutcomeSchema(Schema):
    sku = Identifier(required=True)
    location = Identifier(load_default=None, allow_none=True)
    location_group = Identifier(load_default=None, allow_none=True)
    channel = Channel(required=True)
    available_to_sell = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))
    available_to_order = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))
    status = Text(40, required=True)
    as_of = fields.AwareDateTime(required=True)
    occurred_at = fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"description": "the oldest event behind this value"}
    )

    @validates_schema
    def _one_place(self, data, **_):
        _exactly_one(data, "location", "location_group")


class OutcomeBatchSchema(Schema):
    fence = fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "the publisher lease's fencing token; a batch below one seen before is refused (409)"},
    )
    outcomes = fields.List(fields.Nested(OutcomeSchema), required=True, validate=validate.Length(1, MAX_OUTCOMES))


class ApiUsageSchema(Schema):
    used = fields.Integer()
    limit = fields.Integer()
    share = fields.Float()


class FailedOutcomeSchema(Schema):
    index = fields.Integer(metadata={"description": "the outcome's index in the request"})
    key = fields.String(metadata={"description": "sku|location or group|channel"})
    error_code = fields.String(metadata={"description": "Salesforce's errorCode"})
    message = fields.String(metadata={"description": "Salesforce's message"})
    dead_letter_id = fields.String()


class PublishResultSchema(Schema):
    received = fields.Integer()
    written = fields.Integer()
    dead_lettered = fields.Integer()
    superseded = fields.Integer(
        metadata={
            "description": "outcomes not written because the batch held a newer "
            "one (later as_of) for the same key, or one as new was "
            "sent before"
        }
    )
    failed = fields.List(fields.Nested(FailedOutcomeSchema))
    salesforce_calls = fields.Integer(metadata={"description": "REST requests this batch cost"})
    api_usage = fields.Nested(ApiUsageSchema, allow_none=True)
    slow_down = fields.Boolean(
        metadata={"description": "the org's API usage is above SALESFORCE_LIMIT_SHARE: coalesce harder"}
    )
    acknowledged_at = fields.String(metadata={"format": "date-time"})


# -- inbound: OCI availability -------------------------------------------------------------
class OciAvailabilityRequestSchema(Schema):
    stockKeepingUnits = Identifiers(required=True)  # noqa: N815 (OCI's names)
    locationIdentifiers = Identifiers(load_default=None)  # noqa: N815
    locationGroupIdentifiers = Identifiers(load_default=None)  # noqa: N815
    channel = Channel(load_default=None, metadata={"description": "default: the Salesforce channel"})

    @validates_schema
    def _one_scope(self, data, **_):
        _exactly_one(data, "locationIdentifiers", "locationGroupIdentifiers")


class OciFutureSchema(Schema):
    expectedDate = fields.String(allow_none=True, metadata={"format": "date-time"})  # noqa: N815
    quantity = fields.Integer()


class OciInventoryRecordSchema(Schema):
    stockKeepingUnit = fields.String()  # noqa: N815
    availableToFulfill = fields.Integer()  # noqa: N815
    availableToOrder = fields.Integer()  # noqa: N815
    onHand = fields.Integer()  # noqa: N815
    reserved = fields.Integer()
    safetyStockCount = fields.Integer()  # noqa: N815
    futures = fields.List(fields.Nested(OciFutureSchema))
    effectiveDate = fields.String(metadata={"format": "date-time"})  # noqa: N815


class OciLocationSchema(Schema):
    locationIdentifier = fields.String()  # noqa: N815
    inventoryRecords = fields.List(fields.Nested(OciInventoryRecordSchema))  # noqa: N815


class OciLocationGroupSchema(Schema):
    locationGroupIdentifier = fields.String()  # noqa: N815
    inventoryRecords = fields.List(fields.Nested(OciInventoryRecordSchema))  # noqa: N815


class OciAvailabilitySchema(Schema):
    locations = fields.List(fields.Nested(OciLocationSchema))
    locationGroups = fields.List(fields.Nested(OciLocationGroupSchema))  # noqa: N815


# -- inbound: OCI reservations -------------------------------------------------------------
class _Placed(Schema):
    stockKeepingUnit = Identifier(required=True)  # noqa: N815
    locationIdentifier = Identifier(load_default=None)  # noqa: N815
    locationGroupIdentifier = Identifier(load_default=None)  # noqa: N815
    quantity = Quantity(required=True)

    @validates_schema
    def _one_place(self, data, **_):
        _exactly_one(data, "locationIdentifier", "locationGroupIdentifier")


class OciCreateRecordSchema(_Placed):
    pass


class OciCreateReservationSchema(Schema):
    actionRequestId = ActionRequestId(required=True)  # noqa: N815
    externalRefId = Text(128, load_default=None)  # noqa: N815
    expirationSeconds = fields.Integer(
        load_default=None,  # noqa: N815
        validate=validate.Range(min=1, max=MAX_EXPIRATION_SECONDS),
    )
    allowPartialReservations = fields.Boolean(load_default=False)  # noqa: N815
    reservationTime = Text(  # noqa: N815
        64, load_default=None, metadata={"description": "accepted, not used: the gateway reserves as of now"}
    )
    createRecords = fields.List(
        fields.Nested(OciCreateRecordSchema),
        required=True,  # noqa: N815
        validate=validate.Length(1, MAX_OCI_ITEMS),
    )


class OciErrorSchema(Schema):
    errorCode = fields.String()  # noqa: N815
    message = fields.String()


class OciReservationDetailSchema(Schema):
    stockKeepingUnit = fields.String()  # noqa: N815
    locationIdentifier = fields.String()  # noqa: N815
    locationGroupIdentifier = fields.String()  # noqa: N815
    quantity = fields.Integer(metadata={"description": "requested"})
    reservedQuantity = fields.Integer()  # noqa: N815
    success = fields.Boolean()
    errors = fields.List(fields.Nested(OciErrorSchema))


class OciReservationResultSchema(Schema):
    success = fields.Boolean()
    actionRequestId = fields.String()  # noqa: N815
    reservationTime = fields.String(allow_none=True)  # noqa: N815
    expirationTime = fields.String(allow_none=True)  # noqa: N815
    details = fields.List(fields.Nested(OciReservationDetailSchema))
    errors = fields.List(fields.Nested(OciErrorSchema))


# -- inbound: releases, fulfilments, transfers ---------------------------------------------
class OciActionRecordSchema(_Placed):
    actionRequestId = ActionRequestId(required=True)  # noqa: N815
    externalRefId = Text(128, required=True)  # noqa: N815


class OciTransferRecordSchema(OciActionRecordSchema):
    toLocationIdentifier = Identifier(load_default=None)  # noqa: N815
    toLocationGroupIdentifier = Identifier(load_default=None)  # noqa: N815

    @validates_schema
    def _one_target(self, data, **_):
        _exactly_one(data, "toLocationIdentifier", "toLocationGroupIdentifier")


def _records(schema, **kw) -> fields.List:
    """1 to MAX_OCI_ITEMS records of `schema`, required."""
    return fields.List(fields.Nested(schema), required=True, validate=validate.Length(1, MAX_OCI_ITEMS), **kw)


class OciReleaseRequestSchema(Schema):
    releaseRecords = _records(OciActionRecordSchema)  # noqa: N815


class OciFulfillmentRequestSchema(Schema):
    fulfillmentRecords = _records(OciActionRecordSchema)  # noqa: N815


class OciTransferRequestSchema(Schema):
    transferRecords = _records(OciTransferRecordSchema)  # noqa: N815


class OciActionResultSchema(Schema):
    actionRequestId = fields.String()  # noqa: N815
    externalRefId = fields.String()  # noqa: N815
    stockKeepingUnit = fields.String()  # noqa: N815
    locationIdentifier = fields.String()  # noqa: N815
    locationGroupIdentifier = fields.String()  # noqa: N815
    toLocationIdentifier = fields.String()  # noqa: N815
    toLocationGroupIdentifier = fields.String()  # noqa: N815
    quantity = fields.Integer()


class OciActionErrorSchema(Schema):
    details = fields.Nested(OciActionResultSchema)
    errorCode = fields.String()  # noqa: N815
    message = fields.String()


class OciActionOutputSchema(Schema):
    successes = fields.List(fields.Nested(OciActionResultSchema))
    errors = fields.List(fields.Nested(OciActionErrorSchema))
