"""SAP Gateway error responses: `{"error": {"code", "message": {"lang", "value"}, "innererror": {…}}}`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from flask import Response

JSON_TYPE = "application/json; charset=utf-8"


class ODataError(Exception):
    """Raised anywhere in a request: rendered as an SAP error body with `status`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Iterable[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = list(details)
        self.headers = headers or {}


def error_body(code: str, message: str, details: Iterable[tuple[str, str]] = ()) -> dict:
    now = datetime.now(UTC)
    return {
        "error": {
            "code": code,
            "message": {"lang": "en", "value": message},
            "innererror": {
                "application": {"component_id": "MM-IM-GF", "service_namespace": "/SAP/", "service_version": "0001"},
                "transactionid": uuid.uuid4().hex.upper(),
                "timestamp": now.strftime("%Y%m%d%H%M%S") + f".{now.microsecond:06d}0",
                "errordetails": [
                    {"code": c, "message": m, "propertyref": "", "severity": "error", "target": "", "transition": False}
                    for c, m in details
                ],
            },
        }
    }


def error_response(error: ODataError) -> Response:
    response = Response(
        json.dumps(error_body(error.code, error.message, error.details)), status=error.status, content_type=JSON_TYPE
    )
    response.headers["dataserviceversion"] = "1.0"
    for name, value in error.headers.items():
        response.headers[name] = value
    return response
