"""sObject Collections: create or upsert up to 200 records in one call, with allOrNone.

Results come back in request order. Without allOrNone each record stands alone; with it, one
failure rolls every record back and each result says why (its own error, or
ALL_OR_NONE_OPERATION_ROLLED_BACK), as Salesforce answers. A record may meet a row lock held by
another transaction (`row_locked`, the fault injection's die): UNABLE_TO_LOCK_ROW, as under contention.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping

from simulators.salesforce.errors import RecordError, SalesforceError
from simulators.salesforce.records import RecordStore, Transaction
from simulators.salesforce.schema import SObjectType

MAX_RECORDS = 200
ROLLED_BACK = RecordError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)
ENQUEUED = "OPERATION_ENQUEUED"
LOCKED_MESSAGE = "unable to obtain exclusive access to this record or 1 records"


def _never_locked() -> bool:
    return False


def enqueued(event_uuid: str) -> dict:
    """The `errors` entry of a published Platform Event (success is reported as an "error")."""
    return {"statusCode": ENQUEUED, "message": event_uuid, "fields": []}


def collection_request(body) -> tuple[list, bool]:
    """(records, allOrNone) of a collection body; 400 when it is not one or holds too many records."""
    if not isinstance(body, Mapping) or not isinstance(body.get("records"), list):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must be an object with a records array")
    if len(body["records"]) > MAX_RECORDS:
        raise SalesforceError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
        )
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "allOrNone must be true or false")
    return body["records"], all_or_none


def _record_type(record) -> str | None:
    attributes = record.get("attributes") if isinstance(record, Mapping) else None
    return attributes.get("type") if isinstance(attributes, Mapping) else None


def _run(
    store: RecordStore,
    records: list,
    all_or_none: bool,
    write: Callable[[Transaction, int, Mapping], dict],
    row_locked: Callable[[], bool],
) -> list[dict]:
    results: list[dict | RecordError] = []
    with store.transaction() as transaction:
        for position, record in enumerate(records):
            savepoint = transaction.savepoint()
            try:
                if not isinstance(record, Mapping):
                    raise RecordError("JSON_PARSER_ERROR", "Each record must be a JSON object")
                if row_locked():
                    raise RecordError("UNABLE_TO_LOCK_ROW", LOCKED_MESSAGE)
                results.append(write(transaction, position, record))
            except RecordError as error:
                transaction.rollback_to(savepoint)
                results.append(error)
        failed = any(isinstance(r, RecordError) for r in results)
        if all_or_none and failed:
            transaction.rollback_to(0)
            results = [r if isinstance(r, RecordError) else ROLLED_BACK for r in results]
    return [{"success": False, "errors": [r.to_dict()]} if isinstance(r, RecordError) else r for r in results]


def create_records(store: RecordStore, body, row_locked: Callable[[], bool] = _never_locked) -> list[dict]:
    """POST composite/sobjects: each record names its object in attributes.type."""
    records, all_or_none = collection_request(body)

    def create(transaction: Transaction, _position: int, record: Mapping) -> dict:
        sobject = store.sobject(_record_type(record) or "")
        if sobject is None:
            raise RecordError("INVALID_TYPE", "Must send a concrete entity type.")
        record_id = transaction.create(sobject, record)
        errors = [enqueued(transaction.event_uuids[record_id])] if sobject.event else []
        return {"id": record_id, "success": True, "errors": errors}

    return _run(store, records, all_or_none, create, row_locked)


def upsert_records(
    store: RecordStore, sobject: SObjectType, field_name: str, body, row_locked: Callable[[], bool] = _never_locked
) -> list[dict]:
    """PATCH composite/sobjects/{Object}/{ExternalIdField}: each record carries its external id."""
    field = sobject.external_id_field(field_name)
    if field is None or sobject.event:
        raise SalesforceError(
            404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field_name}"
        )
    records, all_or_none = collection_request(body)
    keys = [_external_id(r, field.name) for r in records]
    repeated = {k for k, n in Counter(str(k).casefold() for k in keys if k is not None).items() if n > 1}

    def upsert(transaction: Transaction, position: int, record: Mapping) -> dict:
        key = keys[position]
        record_type = _record_type(record)
        if record_type is not None and record_type.lower() != sobject.name.lower():
            raise RecordError("INVALID_TYPE", f"Record type {record_type} does not match {sobject.name}")
        if key is None:
            raise RecordError("MISSING_ARGUMENT", f"{field.name} not specified", [field.name])
        if str(key).casefold() in repeated:
            raise RecordError("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {key}", [field.name])
        record_id, created = transaction.upsert(sobject, field.name, key, record)
        return {"id": record_id, "success": True, "errors": [], "created": created}

    results = _run(store, records, all_or_none, upsert, row_locked)
    for result in results:
        result.setdefault("created", False)
    return results


def _external_id(record, field_name: str):
    if not isinstance(record, Mapping):
        return None
    return next((v for k, v in record.items() if k.lower() == field_name.lower() and v not in (None, "")), None)
