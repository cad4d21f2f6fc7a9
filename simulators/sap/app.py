"""`create_app`: the SAP S/4HANA simulator as a Flask app (OData services + admin API).

All state lives in one `SapSystem`, at `app.extensions["sap_system"]`.
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
from simulators.sap import admin, routes
from simulators.sap.errors import ODataError, error_response
from simulators.sap.system import SapSystem, SimulatorOptions

from .settings import SapSimulatorSettings

log = logging.getLogger(__name__)


def create_app(
    settings: SapSimulatorSettings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    options: SimulatorOptions | None = None,
) -> Flask:
    """The simulator app. `settings` default to `SapSimulatorSettings.from_env()`; SAP_USER and SAP_PASSWORD
    must be set (ValueError otherwise). `clock` returns aware UTC datetimes (document and event
    times); `options` hold page size, negative stock, initial faults, delivery policy, demo seeding.
    """
    settings = settings if settings is not None else SapSimulatorSettings.from_env()
    system = SapSystem(settings, options, clock=clock)
    app = Flask(__name__)
    app.request_class = BodyCappedRequest
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["settings"] = settings
    app.extensions["sap_system"] = system
    gateway_logging.init_app(app)
    security_headers.init_app(app)
    app.register_blueprint(routes.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _is_odata() -> bool:
    return request.path.startswith(routes.ODATA_ROOT + "/") or request.path == routes.ODATA_ROOT


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if _is_odata():
        headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
        return error_response(
            ODataError(status, f"/IWFND/CM_MGW/{status}", error.description or error.name, headers=headers)
        )
    return Problem(status, error.description).to_response()


def _unexpected_error(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.error("unhandled exception in %s %s", request.method, request.path, exc_info=error)
    if _is_odata():
        return error_response(ODataError(500, "/IWBEP/CM_MGW_RT/500", "Internal server error"))
    return Problem(500, INTERNAL_ERROR_DETAIL).to_response()
