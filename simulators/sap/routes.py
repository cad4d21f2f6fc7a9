"""The OData v2 endpoints under /sap/opu/odata/sap/: auth, faults and CSRF first, then the resource.

GET   <service>/ , <service>/$metadata
GET   <set>, <set>(keys), <set>(keys)/<nav>, …/$count          (both services)
POST  A_MaterialDocumentHeader (deep insert of to_MaterialDocumentItem) → post a goods movement
POST  Cancel?MaterialDocumentYear='…'&MaterialDocument='…'[&PostingDate=datetime'…'], CancelItem
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time

from flask import Blueprint, Response, current_app, g, request

from simulators.sap.csrf import MODIFYING_METHODS
from simulators.sap.entities import DATETIME, SERVICES, EntityType, Service
from simulators.sap.errors import JSON_TYPE, ODataError, error_response
from simulators.sap.filters import bad_request, typed_literal
from simulators.sap.metadata import edmx
from simulators.sap.odata import entity_json, key_predicate, next_link, parse_options, parse_resource, select_rows
from simulators.sap.stock import PostingError, parse_date
from simulators.sap.system import SapSystem

ODATA_ROOT = "/sap/opu/odata/sap"
REALM = 'Basic realm="SAP NetWeaver Application Server"'
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "MERGE", "DELETE"]

blueprint = Blueprint("sap_odata", __name__, url_prefix=ODATA_ROOT)


def current_system() -> SapSystem:
    return current_app.extensions["sap_system"]


def authenticated_user(system: SapSystem) -> str:
    """The communication user of a request's Basic credentials, or a 401 ODataError."""
    header = request.headers.get("Authorization", "")
    user = password = None
    if header[:6].lower() == "basic ":
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = None
    if (
        user is None
        or password is None
        or not (
            hmac.compare_digest(user.encode(), system.user.encode())
            and hmac.compare_digest(password.encode(), system.password.encode())
        )
    ):
        raise ODataError(
            401,
            "/IWFND/CM_CONSUMER/401",
            "Logon failed: user or password is not valid",
            headers={"WWW-Authenticate": REALM},
        )
    return user


@blueprint.before_request
def guard() -> None:
    system = current_system()
    g.sap_user = authenticated_user(system)
    fault = system.faults.for_request()
    if fault.delay_seconds:
        time.sleep(fault.delay_seconds)
    if fault.unavailable:
        raise ODataError(503, "/IWFND/CM_BEC/026", "Service temporarily unavailable (injected fault)")
    if request.method in MODIFYING_METHODS:
        session_id = request.cookies.get(system.csrf.cookie_name)
        if not system.csrf.valid(session_id, g.sap_user, request.headers.get("X-CSRF-Token")):
            raise ODataError(
                403, "/IWFND/CM_CSRF/403", "CSRF token validation failed", headers={"X-CSRF-Token": "Required"}
            )


@blueprint.after_request
def decorate(response: Response) -> Response:
    response.headers.setdefault("dataserviceversion", "2.0")
    wants_token = request.headers.get("X-CSRF-Token", "").lower() == "fetch"
    if wants_token and request.method in ("GET", "HEAD") and response.status_code < 400 and "sap_user" in g:
        system = current_system()
        session_id, token = system.csrf.fetch(request.cookies.get(system.csrf.cookie_name), g.sap_user)
        response.headers["X-CSRF-Token"] = token
        response.set_cookie(system.csrf.cookie_name, session_id, path="/", httponly=True)
    return response


@blueprint.errorhandler(ODataError)
def render_error(error: ODataError) -> Response:
    return error_response(error)


def _service(name: str) -> Service:
    service = SERVICES.get(name)
    if service is None:
        raise ODataError(404, "/IWFND/MED/170", f"No service found for namespace '', name '{name}', version '0001'")
    return service


def _service_url(service: Service) -> str:
    return f"{request.url_root.rstrip('/')}{ODATA_ROOT}/{service.name}"


def _json(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, content_type=JSON_TYPE, headers=headers)


@blueprint.route("/<service_name>", methods=["GET"], strict_slashes=False)
def service_document(service_name: str) -> Response:
    service = _service(service_name)
    return _json({"d": {"EntitySets": [e.set_name for e in service.entity_types]}})


@blueprint.route("/<service_name>/$metadata", methods=["GET"])
def metadata(service_name: str) -> Response:
    return Response(edmx(_service(service_name).name), content_type="application/xml")


@blueprint.route("/<service_name>/<path:resource_path>", methods=ALL_METHODS)
def resource(service_name: str, resource_path: str) -> Response:
    service = _service(service_name)
    function = service.function(resource_path)
    if function is not None:
        if request.method != function.http_method:
            raise ODataError(
                405,
                "/IWBEP/CM_MGW_RT/005",
                f"Function import {function.name} requires HTTP {function.http_method}",
                headers={"Allow": function.http_method},
            )
        return _call_function(service, function.name)
    entity_sets = {e.set_name: e for e in service.entity_types}
    target = parse_resource(resource_path, entity_sets)
    entity = entity_sets.get(target.name)
    if entity is None:
        raise ODataError(404, "/IWBEP/CM_MGW_RT/021", f"Resource not found for segment '{target.name}'")
    if request.method == "GET":
        return _read(service, entity, target)
    if request.method == "POST" and entity.set_name == "A_MaterialDocumentHeader" and target.key is None:
        return _create_document(service, entity)
    raise ODataError(
        405,
        "/IWBEP/CM_MGW_RT/005",
        f"Method {request.method} is not allowed on '{resource_path}'",
        headers={"Allow": "GET"},
    )


def _read(service: Service, entity: EntityType, target) -> Response:
    system = current_system()
    if target.key is not None:
        row = system.find(entity.set_name, target.key)
        if row is None:
            raise ODataError(
                404,
                "/IWBEP/CM_MGW_RT/020",
                f"Resource not found for segment '{entity.name}{key_predicate(entity, target.key)}'",
            )
        if target.navigation is None:
            if target.count:
                raise bad_request("$count is only allowed on collections")
            options = parse_options(request.args, entity, collection=False)
            return _json({"d": _entity(system, service, entity, row, options)})
        rows = system.related(entity.set_name, target.navigation, row)
        navigation = entity.nav(target.navigation)
        assert navigation is not None  # parse_resource answered 404 for an unknown one
        entity = service.entity_type(navigation.target)
        options = parse_options(request.args, entity, collection=True)
    else:
        options = parse_options(request.args, entity, collection=True)
        rows = system.rows(entity.set_name, keys=options.where.keys if options.where else None)
    if target.count:
        page = select_rows(rows, options, entity, page_size=max(len(rows), 1))
        return Response(str(len(page.rows)), content_type="text/plain; charset=utf-8")
    page = select_rows(rows, options, entity, system.page_size)
    body: dict = {}
    if options.inlinecount:
        body["__count"] = str(page.total)
    body["results"] = [_entity(system, service, entity, r, options) for r in page.rows]
    if page.next_skiptoken is not None:
        body["__next"] = next_link(request.base_url, request.args, page.next_skiptoken)
    return _json({"d": body})


def _entity(system: SapSystem, service: Service, entity: EntityType, row: dict, options) -> dict:
    expanded = {}
    for name in options.expand:
        navigation = entity.nav(name)
        assert navigation is not None  # parse_options answered 400 for an unknown one
        target = service.entity_type(navigation.target)
        expanded[name] = (target, system.related(entity.set_name, name, row))
    return entity_json(entity, row, _service_url(service), select=options.select, expanded=expanded)


def _document_response(service: Service, document, status: int, headers: dict | None = None) -> Response:
    header_type = service.entity_set("A_MaterialDocumentHeader")
    item_type = service.entity_set("A_MaterialDocumentItem")
    assert header_type is not None and item_type is not None  # the material document service has both
    body = entity_json(
        header_type,
        document.header,
        _service_url(service),
        expanded={"to_MaterialDocumentItem": (item_type, document.items)},
    )
    return _json({"d": body}, status, headers)


def _create_document(service: Service, entity: EntityType) -> Response:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise bad_request(
            "The request body must be a JSON object (Content-Type: application/json)", code="/IWBEP/CM_MGW_RT/007"
        )
    items = payload.get("to_MaterialDocumentItem") or []
    if isinstance(items, dict):
        items = items.get("results") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad_request("to_MaterialDocumentItem must be a list of items")
    try:
        document = current_system().post_document(payload, items, user=g.sap_user)
    except PostingError as error:
        raise ODataError(error.status, error.code, error.message, details=error.details) from error
    location = f"{_service_url(service)}/{entity.set_name}{key_predicate(entity, document.header)}"
    return _document_response(service, document, 201, {"Location": location})


def _function_parameter(name: str, edm_type: str, required: bool):
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise bad_request(f"Function import parameter {name} is missing")
        return None
    raw = raw.strip()
    if edm_type == DATETIME:
        try:
            return typed_literal(raw) if raw.lower().startswith("datetime'") else parse_date(raw)
        except ValueError:
            raise bad_request(f"Parameter {name} is not a valid Edm.DateTime literal") from None
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    return raw


def _call_function(service: Service, name: str) -> Response:
    function = service.function(name)
    assert function is not None  # resource() found it
    values = {p.name: _function_parameter(p.name, p.edm_type, not p.nullable) for p in function.parameters}
    try:
        document = current_system().cancel_document(
            values["MaterialDocumentYear"],
            values["MaterialDocument"],
            item=values.get("MaterialDocumentItem"),
            posting_date=values.get("PostingDate"),
            user=g.sap_user,
        )
    except PostingError as error:
        raise ODataError(error.status, error.code, error.message, details=error.details) from error
    return _document_response(service, document, 200)
