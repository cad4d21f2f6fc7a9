"""Salesforce's REST API under /services/data/vNN.N: sObjects, upserts by external id, sObject
Collections, Platform Event publishing, SOQL queries, describe and limits.

Every call passes the same gate (before_request): a known API version, injected faults, a live
access token, one count against the daily limit. Every answer carries Sforce-Limit-Info.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, request

from simulators.salesforce import composite, soql
from simulators.salesforce.errors import RecordError, SalesforceError, json_response
from simulators.salesforce.ids import normalise
from simulators.salesforce.org import SalesforceOrg
from simulators.salesforce.records import MultipleMatches, not_found
from simulators.salesforce.schema import ID, SObjectType

DATA_ROOT = "/services/data"
LIMIT_HEADER = "Sforce-Limit-Info"
# From this version on an upsert that updates answers 200 with a body (before: 204, no body).
UPSERT_BODY_SINCE = 46.0

versions = Blueprint("salesforce_versions", __name__)
blueprint = Blueprint("salesforce_rest", __name__, url_prefix=DATA_ROOT + "/v<version>")


def org() -> SalesforceOrg:
    return current_app.extensions["salesforce_org"]


def version_path() -> str:
    return f"{DATA_ROOT}/v{g.api_version}"


def is_rest_call() -> bool:
    return request.path.startswith(DATA_ROOT + "/v")


@versions.get(DATA_ROOT, strict_slashes=False)
def list_versions():
    return json_response(
        [{"label": f"v{v}", "url": f"{DATA_ROOT}/v{v}", "version": v} for v in org().options.api_versions]
    )


@blueprint.url_value_preprocessor
def take_version(_endpoint, values) -> None:
    g.api_version = values.pop("version")


@blueprint.before_request
def gate() -> None:
    the_org = org()
    if g.api_version not in the_org.options.api_versions:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    verdict = the_org.faults.roll()
    if verdict.delay_seconds:
        time.sleep(verdict.delay_seconds)  # injected latency
    if verdict.unavailable:
        raise SalesforceError(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable, please retry.", None)
    if verdict.rate_limited:
        raise SalesforceError(
            429,
            "REQUEST_LIMIT_EXCEEDED",
            "Too many requests, please retry later.",
            None,
            headers={"Retry-After": str(the_org.faults.settings.retry_after_seconds)},
        )
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or the_org.session(token.strip()) is None:
        raise SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid", None)
    the_org.usage.count()


@blueprint.after_app_request
def add_limit_info(response: Response) -> Response:
    if is_rest_call():
        response.headers[LIMIT_HEADER] = org().usage.header()
    return response


@blueprint.errorhandler(SalesforceError)
def render_error(error: SalesforceError) -> Response:
    return error.to_response()


@blueprint.errorhandler(RecordError)
def render_record_error(error: RecordError) -> Response:
    if isinstance(error, MultipleMatches):  # Salesforce answers 300 with where the candidates are
        return json_response([record_url(error.object_name, i) for i in error.ids], 300)
    return SalesforceError.from_record_error(error).to_response()


def record_url(object_name: str, record_id: str) -> str:
    return f"{version_path()}/sobjects/{object_name}/{record_id}"


def sobject(name: str, *, queryable: bool = False) -> SObjectType:
    found = org().store.sobject(name)
    if found is None or (queryable and found.event):
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    return found


def json_body():
    body = request.get_json(silent=True)
    if body is None:
        raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
    return body


def record_body() -> dict:
    body = json_body()
    if not isinstance(body, dict):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a non-object")
    return body


def with_attributes(sobject_type: SObjectType, record: dict, fields=None) -> dict:
    names = fields or list(sobject_type.fields)
    return {
        "attributes": {"type": sobject_type.name, "url": record_url(sobject_type.name, record["Id"])},
        **{name: record.get(name) for name in names},
    }


# --- resources and describe -------------------------------------------------------------------------


@blueprint.get("/", strict_slashes=False)
def resources():
    base = version_path()
    return json_response({name: f"{base}/{name}" for name in ("sobjects", "query", "queryAll", "composite", "limits")})


@blueprint.get("/limits", strict_slashes=False)
def limits():
    usage = org().usage
    return json_response({"DailyApiRequests": {"Max": usage.limit, "Remaining": max(0, usage.limit - usage.used)}})


@blueprint.get("/sobjects", strict_slashes=False)
def describe_global():
    base = version_path()
    return json_response(
        {
            "encoding": "UTF-8",
            "maxBatchSize": composite.MAX_RECORDS,
            "sobjects": [o.describe(base) for o in org().store.objects.values()],
        }
    )


@blueprint.get("/sobjects/<name>", strict_slashes=False)
def object_info(name: str):
    return json_response({"objectDescribe": sobject(name).describe(version_path()), "recentItems": []})


@blueprint.get("/sobjects/<name>/describe", strict_slashes=False)
def describe(name: str):
    return json_response(sobject(name).describe(version_path(), with_fields=True))


# --- single records ---------------------------------------------------------------------------------


@blueprint.post("/sobjects/<name>", strict_slashes=False)
def create(name: str):
    target, body = sobject(name), record_body()
    with org().store.transaction() as transaction:
        record_id = transaction.create(target, body)
    errors = [composite.enqueued(transaction.event_uuids[record_id])] if target.event else []
    return json_response({"id": record_id, "success": True, "errors": errors}, 201)


def _record(target: SObjectType, record_id: str) -> dict:
    record = org().store.get(target, record_id)
    if record is None:
        raise not_found()
    return record


def _one_id(target: SObjectType, field_name: str, value: str) -> str:
    field = target.external_id_field(field_name)
    if field is None:
        raise not_found(f"Provided external ID field does not exist or is not accessible: {field_name}")
    ids = org().store.find(target, field.name, value) if field.type != ID else [normalise(value) or value]
    if len(ids) > 1:
        raise MultipleMatches(target.name, field.name, value, ids)
    if not ids:
        raise not_found()
    return ids[0]


def _fields_param(target: SObjectType) -> list[str] | None:
    names = [n.strip() for n in request.args.get("fields", "").split(",") if n.strip()]
    return [soql.field_name(target, n) for n in names] or None


@blueprint.get("/sobjects/<name>/<record_id>", strict_slashes=False)
def get_record(name: str, record_id: str):
    target = sobject(name, queryable=True)
    return json_response(with_attributes(target, _record(target, record_id), _fields_param(target)))


@blueprint.patch("/sobjects/<name>/<record_id>", strict_slashes=False)
def update_record(name: str, record_id: str):
    target, body = sobject(name, queryable=True), record_body()
    with org().store.transaction() as transaction:
        transaction.update(target, record_id, body)
    return Response(status=204)


@blueprint.delete("/sobjects/<name>/<record_id>", strict_slashes=False)
def delete_record(name: str, record_id: str):
    target = sobject(name, queryable=True)
    with org().store.transaction() as transaction:
        transaction.delete(target, record_id)
    return Response(status=204)


@blueprint.get("/sobjects/<name>/<field>/<path:value>", strict_slashes=False)
def get_by_external_id(name: str, field: str, value: str):
    target = sobject(name, queryable=True)
    return json_response(with_attributes(target, _record(target, _one_id(target, field, value)), _fields_param(target)))


@blueprint.patch("/sobjects/<name>/<field>/<path:value>", strict_slashes=False)
def upsert(name: str, field: str, value: str):
    target, body = sobject(name, queryable=True), record_body()
    with org().store.transaction() as transaction:
        record_id, created = transaction.upsert(target, field, value, body)
    if created:
        return json_response({"id": record_id, "success": True, "errors": [], "created": True}, 201)
    if float(g.api_version) < UPSERT_BODY_SINCE:
        return Response(status=204)
    return json_response({"id": record_id, "success": True, "errors": [], "created": False}, 200)


@blueprint.delete("/sobjects/<name>/<field>/<path:value>", strict_slashes=False)
def delete_by_external_id(name: str, field: str, value: str):
    target = sobject(name, queryable=True)
    with org().store.transaction() as transaction:
        transaction.delete(target, _one_id(target, field, value))
    return Response(status=204)


# --- sObject Collections ----------------------------------------------------------------------------


@blueprint.post("/composite/sobjects", strict_slashes=False)
def create_collection():
    return json_response(composite.create_records(org().store, json_body(), org().faults.row_locked))


@blueprint.patch("/composite/sobjects/<name>/<field>", strict_slashes=False)
def upsert_collection(name: str, field: str):
    return json_response(
        composite.upsert_records(org().store, sobject(name), field, json_body(), org().faults.row_locked)
    )


# --- SOQL -------------------------------------------------------------------------------------------


@blueprint.get("/query", strict_slashes=False)
@blueprint.get("/queryAll", strict_slashes=False)
def query():
    text = request.args.get("q", "").strip()
    if not text:
        raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
    the_org = org()
    parsed = soql.parse(text, the_org.store.sobject)
    rows = [
        with_attributes(parsed.sobject, r, parsed.fields) for r in parsed.select(the_org.store.records(parsed.sobject))
    ]
    return json_response(the_org.cursors.first_page(rows, version_path()))


@blueprint.get("/query/<locator>", strict_slashes=False)
@blueprint.get("/queryAll/<locator>", strict_slashes=False)
def query_more(locator: str):
    return json_response(org().cursors.next_page(locator, version_path()))
