"""Salesforce's error shapes: REST `[{"message", "errorCode", "fields"}]` with an HTTP status, and
the per-record `{"statusCode", "message", "fields"}` of sObject Collections."""

from __future__ import annotations

import json
from collections.abc import Sequence

from flask import Response

JSON_TYPE = "application/json;charset=UTF-8"


class RecordError(Exception):
    """One record could not be written; in a collection it becomes that record's `errors` entry."""

    def __init__(self, status_code: str, message: str, fields: Sequence[str] = (), *, http_status: int = 400):
        super().__init__(message)
        self.status_code, self.message, self.fields = status_code, message, list(fields)
        self.http_status = http_status

    def to_dict(self) -> dict:
        return {"statusCode": self.status_code, "message": self.message, "fields": self.fields}


class SalesforceError(Exception):
    """A REST request failed as a whole: rendered as Salesforce's error array with `status`."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: Sequence[str] | None = (),
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message
        self.fields = None if fields is None else list(fields)
        self.headers = headers or {}

    @classmethod
    def from_record_error(cls, error: RecordError) -> SalesforceError:
        return cls(error.http_status, error.status_code, error.message, error.fields)

    def to_response(self) -> Response:
        body: dict[str, str | list[str]] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:  # INVALID_SESSION_ID and limit errors carry no fields member
            body["fields"] = self.fields
        response = json_response([body], self.status)
        response.headers.update(self.headers)
        return response


def json_response(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type=JSON_TYPE)


def oauth_error(status: int, error: str, description: str) -> Response:
    """The OAuth endpoint's own error shape (RFC 6749 section 5.2)."""
    return json_response({"error": error, "error_description": description}, status)
