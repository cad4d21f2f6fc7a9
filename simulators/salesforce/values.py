"""Field values as Salesforce takes them in (JSON, loosely typed) and gives them out.

A value is checked against its `Field` and stored in the form the REST API answers with
(text, bool, float, or a date-time string like `2026-01-31T09:00:00.000+0000`); a bad one
raises the `RecordError` Salesforce would report for that field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from simulators.salesforce.errors import RecordError
from simulators.salesforce.ids import normalise
from simulators.salesforce.schema import BOOLEAN, DATETIME, DOUBLE, ID, PICKLIST, Field, SObjectType

IGNORED_KEYS = frozenset({"attributes"})  # sent by clients on every record, not a field


def format_datetime(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _wrong_type(field: Field, value) -> RecordError:
    return RecordError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{field.label or field.name}: value not of required type: {value}",
        [field.name],
    )


def _number(field: Field, value) -> float:
    if isinstance(value, bool):
        raise _wrong_type(field, value)
    try:
        number = float(value)  # Salesforce also takes numbers written as JSON strings
    except (TypeError, ValueError):
        raise _wrong_type(field, value) from None
    if not math.isfinite(number):
        raise _wrong_type(field, value)
    return number


def _datetime(field: Field, value) -> str:
    if not isinstance(value, str):
        raise _wrong_type(field, value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _wrong_type(field, value) from None
    if moment.tzinfo is None:  # Salesforce reads a date-time without offset as UTC
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment)


def _boolean(field: Field, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _wrong_type(field, value)


def _text(field: Field, value) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _wrong_type(field, value)
    text = str(value)
    if len(text) > field.length:
        raise RecordError(
            "STRING_TOO_LONG",
            f"{field.label or field.name}: data value too large: {text[:40]} (max length={field.length})",
            [field.name],
        )
    if field.type == PICKLIST and field.picklist and text not in field.picklist:
        raise RecordError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{field.label or field.name}: bad value for restricted picklist field: {text}",
            [field.name],
        )
    return text


def _id(field: Field, value) -> str:
    record_id = normalise(value) if isinstance(value, str) else None
    if record_id is None:
        raise RecordError("MALFORMED_ID", f"{field.name}: id value of incorrect type: {value}", [field.name])
    return record_id


CONVERTERS = {BOOLEAN: _boolean, DOUBLE: _number, DATETIME: _datetime, ID: _id}


def coerce(field: Field, value):
    """The stored form of `value` for `field`; None clears it (a boolean clears to false)."""
    if value is None:
        if field.type == BOOLEAN:
            return False
        if field.required:
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{field.name}]", [field.name])
        return None
    return CONVERTERS.get(field.type, _text)(field, value)


def writable_values(sobject: SObjectType, body: Mapping) -> dict:
    """The body's field values, checked and converted, keyed by the fields' own spelling."""
    values = {}
    for name, value in body.items():
        if name in IGNORED_KEYS:
            continue
        field = sobject.field(name)
        if field is None:
            raise RecordError("INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject.name}", [name])
        if not field.writable:
            raise RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {field.name}. Please check the security settings "
                "of this field and verify that it is read/write for your profile or permission set.",
                [field.name],
            )
        values[field.name] = coerce(field, value)
    return values


def missing_required(sobject: SObjectType, values: Mapping) -> RecordError | None:
    missing = [f.name for f in sobject.fields.values() if f.required and values.get(f.name) is None]
    if not missing:
        return None
    return RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
