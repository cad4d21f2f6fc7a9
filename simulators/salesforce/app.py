"""`create_app`: the Salesforce org simulator as a Flask app (OAuth, REST API, admin API).

All state lives in one `SalesforceOrg`, at `app.extensions["salesforce_org"]`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from shared import logging as gateway_logging
from shared import security_headers
from shared.errors import INTERNAL_ERROR_DETAIL, Problem
from shared.json_bodies import BodyCappedRequest
from simulators.salesforce import admin, oauth, routes
from simulators.salesforce.errors import SalesforceError, json_response
from simulators.salesforce.org import OrgOptions, SalesforceOrg

from .settings import SalesforceSimulatorSettings

__all__ = ["OrgOptions", "create_app"]

log = logging.getLogger(__name__)


def create_app(
    settings: SalesforceSimulatorSettings | None = None,
    *,
    options: OrgOptions | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    """The simulator app. `settings` default to `SalesforceSimulatorSettings.from_env()`; SALESFORCE_CLIENT_ID and
    SALESFORCE_CLIENT_SECRET must be set (ValueError otherwise). `clock` returns aware UTC datetimes
    (token lifetimes, record timestamps, the daily limit's day); `options` hold page size, users,
    initial faults, API versions, the object model and demo seeding.
    """
    settings = settings if settings is not None else SalesforceSimulatorSettings.from_env()
    app = Flask(__name__)
    app.request_class = BodyCappedRequest
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["settings"] = settings
    app.extensions["salesforce_org"] = SalesforceOrg(settings, options, clock=clock)
    gateway_logging.init_app(app)
    security_headers.init_app(app)
    app.register_blueprint(oauth.blueprint)
    app.register_blueprint(routes.versions)
    app.register_blueprint(routes.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_error_handler(Problem, Problem.to_response)  # the admin API's errors
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _is_salesforce_api() -> bool:
    return request.path.startswith("/services/")


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if not _is_salesforce_api():
        return Problem(status, error.description).to_response()
    if status == 405:
        allowed = next((v for k, v in error.get_headers() if k.lower() == "allow"), "")
        response = SalesforceError(
            405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}"
        ).to_response()
        response.headers["Allow"] = allowed
        return response
    if status == 404:
        return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist").to_response()
    if status == 413:
        return SalesforceError(413, "REQUEST_ENTITY_TOO_LARGE", "Request body is too large").to_response()
    return json_response([{"message": error.description or error.name, "errorCode": "UNKNOWN_EXCEPTION"}], status)


def _unexpected_error(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.error("unhandled exception in %s %s", request.method, request.path, exc_info=error)
    if _is_salesforce_api():
        return json_response(
            [
                {
                    "message": "An unexpected error occurred. Please include this ErrorId if you contact support.",
                    "errorCode": "UNKNOWN_EXCEPTION",
                }
            ],
            500,
        )
    return Problem(500, INTERNAL_ERROR_DETAIL).to_response()
