"""Canonical event parsing: the one EventSchema an event is validated by, and `load_event`, its
fast path for the plainly valid item. Ingest (service/ingest.py) and POST /events share it."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from shared.validators import FullMatch, clean_text, is_clean_text

from ..domain.events import ISSUE_REASONS, STOCK_TYPES, TRANSFER_TYPES, EventType, InventoryEvent
from ..domain.identifiers import IDENTIFIER, is_identifier


def Identifier(**kw: Any) -> fields.String:  # noqa: N802  (a field, named like one)
    """A SKU or location id: what fits the Redis key layout (adapters/keys.py)."""
    return fields.String(validate=FullMatch(IDENTIFIER), **kw)


class EventSchema(Schema):
    """One canonical event. Validated item by item, so one bad item never sinks a batch."""

    event_id = fields.String(required=True, validate=[validate.Length(1, 200), clean_text])
    type = fields.String(required=True, validate=validate.OneOf([t.value for t in EventType]))
    sku = Identifier(required=True)
    location = Identifier(required=True)
    to_location = Identifier(load_default=None)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10**9))
    occurred_at = fields.AwareDateTime(required=True)
    source = fields.String(required=True, validate=[validate.Length(1, 64), clean_text])
    reference = fields.String(load_default=None, validate=[validate.Length(1, 128), clean_text])
    reason = fields.String(load_default=None, validate=validate.OneOf(ISSUE_REASONS))
    stock_type = fields.String(load_default=None, validate=validate.OneOf(list(STOCK_TYPES)))
    counts = fields.Dict(
        keys=fields.String(validate=validate.OneOf(["quality_inspection", "blocked", "in_transit"])),
        values=fields.Integer(strict=True, validate=validate.Range(min=0, max=10**9)),
        load_default=None,
    )
    expected_at = fields.AwareDateTime(
        load_default=None,
        metadata={
            "description": "transfer.shipped only: when the shipment should arrive (else the rules' transit time)"
        },
    )

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("type")
        if kind != EventType.COUNTED and data.get("quantity") == 0:
            raise ValidationError("must be greater than 0 (only stock.counted may state 0)", "quantity")
        if kind in TRANSFER_TYPES and not data.get("to_location"):
            raise ValidationError("required for transfers", "to_location")
        if kind in TRANSFER_TYPES and data.get("to_location") == data.get("location"):
            raise ValidationError("must differ from location", "to_location")
        if kind not in TRANSFER_TYPES and data.get("to_location"):
            raise ValidationError("only transfer.shipped and transfer.moved name a to_location", "to_location")
        if data.get("counts") and kind != EventType.COUNTED:
            raise ValidationError("only stock.counted carries counts", "counts")
        if data.get("expected_at") and kind != EventType.TRANSFER_SHIPPED:
            raise ValidationError("only transfer.shipped carries expected_at", "expected_at")

    @post_load
    def _event(self, data: dict[str, Any], **_: Any) -> InventoryEvent:
        return InventoryEvent(**{**data, "type": EventType(data["type"]), "counts": data["counts"] or {}})


_event_schema = EventSchema()
_OCCURRED_AT = _event_schema.fields["occurred_at"]
_COUNTS = _event_schema.fields["counts"]
_EVENT_TYPES = {t.value: t for t in EventType}
_REQUIRED = ("event_id", "type", "sku", "location", "quantity", "occurred_at", "source")
#: The fields the fast path knows; a test keeps this equal to EventSchema's fields.
FAST_PATH_FIELDS = frozenset((*_REQUIRED, "to_location", "reference", "reason", "stock_type", "counts", "expected_at"))


def _fast_event(item: dict[str, Any]) -> InventoryEvent | None:
    """EventSchema().load(item) for the plainly valid item, at a fraction of the cost; None when
    the item is anything else (then marshmallow decides, and words the errors).

    Every check is at least as strict as the schema's, so whatever this returns is exactly what
    the schema returns (tests/process_apis/inventory/service/test_event_parsing.py checks it against marshmallow).
    """
    if not FAST_PATH_FIELDS.issuperset(item) or item.get("expected_at") is not None:
        return None  # an ETA is rare: the schema checks it
    try:
        event_id, kind, sku, location, quantity, occurred_at, source = (item[name] for name in _REQUIRED)
    except KeyError:
        return None
    event_type = _EVENT_TYPES.get(kind) if type(kind) is str else None
    if (
        event_type is None
        or type(event_id) is not str
        or not 1 <= len(event_id) <= 200
        or not is_clean_text(event_id)
        or type(sku) is not str
        or not is_identifier(sku)
        or type(location) is not str
        or not is_identifier(location)
        or type(quantity) is not int
        or not 0 <= quantity <= 10**9
        or type(source) is not str
        or not 1 <= len(source) <= 64
        or not is_clean_text(source)
        or type(occurred_at) is not str
    ):
        return None
    if quantity == 0 and event_type is not EventType.COUNTED:
        return None
    to_location = item.get("to_location")
    if to_location is not None and (type(to_location) is not str or not is_identifier(to_location)):
        return None
    if event_type in TRANSFER_TYPES:
        if not to_location or to_location == location:
            return None
    elif to_location:
        return None
    reference = item.get("reference")
    if reference is not None and (
        type(reference) is not str or not 1 <= len(reference) <= 128 or not is_clean_text(reference)
    ):
        return None
    reason = item.get("reason")
    if reason is not None and (type(reason) is not str or reason not in ISSUE_REASONS):
        return None
    stock_type = item.get("stock_type")
    if stock_type is not None and (type(stock_type) is not str or stock_type not in STOCK_TYPES):
        return None
    try:
        # The schema's own fields, through their public API: same parser, same awareness rule.
        when = _OCCURRED_AT.deserialize(occurred_at, "occurred_at", item)
        counts = item.get("counts")
        if counts is not None:
            counts = _COUNTS.deserialize(counts, "counts", item)
            if counts and event_type is not EventType.COUNTED:
                return None
    except ValidationError:
        return None
    return InventoryEvent(
        event_id=event_id,
        type=event_type,
        sku=sku,
        location=location,
        quantity=quantity,
        occurred_at=when,
        source=source,
        to_location=to_location,
        reference=reference,
        reason=reason,
        stock_type=stock_type,
        counts=counts or {},
    )


def load_event(item: dict[str, Any]) -> InventoryEvent:
    """One event item validated by EventSchema (raises its ValidationError), fast when plainly valid."""
    return _fast_event(item) or _event_schema.load(item)
