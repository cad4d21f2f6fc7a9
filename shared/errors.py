"""The one error response of the gateway: RFC 9457 problem details (application/problem+json).

Views and services raise `Problem`; flask-smorest/webargs `abort`, werkzeug HTTP errors
(404, 405, 413, malformed JSON...) and unhandled exceptions are all rendered by `ProblemApi`
into the same shape: `type`, `title`, `status`, `detail`, plus extension members.
Validation failures carry `errors` exactly as webargs nests them by location,
e.g. `{"json": {"quantity": ["Must be greater than 0."]}}`.
"""

from __future__ import annotations

import http
import logging
from typing import Any

import flask
import marshmallow as ma
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from redis import exceptions as redis_errors
from werkzeug.exceptions import HTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://inventory-gateway.dev/problems/"
INTERNAL_ERROR_DETAIL = "An unexpected error occurred. Quote the correlation id when reporting it."
#: Redis failures that pass (Redis down or restarting, still loading its data, a cluster re-sharding):
#: the request may be repeated shortly, so they answer 503 with Retry-After, never 500.
STORE_UNAVAILABLE = (
    redis_errors.ConnectionError,  # BusyLoadingError (loading its data) is one
    redis_errors.TimeoutError,
    redis_errors.ClusterDownError,
    redis_errors.TryAgainError,
    redis_errors.MasterDownError,
)
STORE_RETRY_AFTER_SECONDS = 1

logger = logging.getLogger(__name__)


def problem_type(slug: str) -> str:
    """The `type` URI of a problem slug, e.g. `not-found`."""
    return PROBLEM_TYPE_BASE + slug


def _status_slug(status: int) -> str:
    return http.HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


class Problem(Exception):
    """An error outcome a view or service raises; rendered as problem+json.

    `type_slug` defaults to the status phrase (`conflict`, `not-found`...);
    `extensions` become extra members (e.g. `shortfalls=[...]`).
    """

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        type_slug: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ):
        phrase = http.HTTPStatus(status).phrase
        super().__init__(detail or phrase)
        self.status = status
        self.detail = detail or phrase
        self.title = title or phrase
        self.type = problem_type(type_slug or _status_slug(status))
        self.headers = dict(headers or {})
        self.extensions = extensions

    def to_dict(self) -> dict[str, Any]:
        body = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        body.update(self.extensions)
        return body

    def to_response(self) -> flask.Response:
        # Typed as werkzeug's sansio Response; it is the app's response_class, a flask.Response.
        response: flask.Response = flask.current_app.json.response(self.to_dict())  # type: ignore[assignment]
        response.status_code = self.status
        response.content_type = PROBLEM_CONTENT_TYPE
        response.headers.update(self.headers)
        return response


def problem_from_http_exception(error: HTTPException) -> Problem:
    """Translate a werkzeug/webargs/flask-smorest HTTP error into a `Problem`.

    Of `abort(status, **kwargs)` only `message` (→ detail), `errors`/`messages` (→ errors)
    and `headers` are used; raise `Problem` for other extension members.
    """
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    extensions = {}
    errors = data.get("errors") or data.get("messages")
    if errors:
        extensions["errors"] = errors
    return Problem(status, data.get("message") or _default_detail(error, errors), headers=headers, **extensions)


def _default_detail(error: HTTPException, errors: Any) -> str | None:
    limit = flask.current_app.config.get("MAX_CONTENT_LENGTH")
    if errors:
        return _validation_detail(errors)
    if error.code == 413 and limit:
        return f"The request body is larger than the {limit}-byte limit."
    if error.code == 500:
        return INTERNAL_ERROR_DETAIL
    return error.description


def _validation_detail(errors: Any) -> str:
    if isinstance(errors, dict) and set(errors) == {"json"} and isinstance(errors["json"], list):
        return "The request body is not valid JSON."
    return "The request has invalid fields; see `errors`."


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, for the OpenAPI document (responses are not dumped through it)."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(metadata={"description": "URI identifying the problem type"})
    title = ma.fields.String(metadata={"description": "Short summary of the problem type"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "Explanation of this occurrence"})
    errors = ma.fields.Dict(metadata={"description": "Field messages by location, e.g. {json: {field: [msg]}}"})


class ProblemApi(Api):
    """flask-smorest `Api` whose every error response, and error documentation, is problem+json."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"

    def init_app(self, app: flask.Flask, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        super().init_app(app, spec_kwargs=spec_kwargs)
        app.register_error_handler(Problem, self.handle_problem)
        for error in STORE_UNAVAILABLE:
            app.register_error_handler(error, self.handle_store_unavailable)
        # Also catches what Flask would otherwise re-raise under TESTING/PROPAGATE_EXCEPTIONS.
        app.register_error_handler(Exception, self.handle_unexpected_exception)

    def handle_http_exception(self, error: HTTPException) -> flask.Response:
        original = getattr(error, "original_exception", None)
        if error.code == 500 and isinstance(original, STORE_UNAVAILABLE):
            return self.handle_store_unavailable(original)
        if error.code == 500 and original is not None:
            return self.handle_unexpected_exception(original)
        return problem_from_http_exception(error).to_response()

    @staticmethod
    def handle_problem(problem: Problem) -> flask.Response:
        return problem.to_response()

    @staticmethod
    def handle_store_unavailable(error: Exception) -> flask.Response:
        logger.warning(
            "redis unavailable in %s %s: %s: %s", flask.request.method, flask.request.path, type(error).__name__, error
        )
        return Problem(
            503,
            "The gateway's store is unavailable; try again shortly.",
            type_slug="store-unavailable",
            headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
        ).to_response()

    @staticmethod
    def handle_unexpected_exception(error: BaseException) -> flask.Response:
        logger.error(
            "unhandled exception in %s %s",
            flask.request.method,
            flask.request.path,
            exc_info=(type(error), error, error.__traceback__),
        )
        return Problem(500, INTERNAL_ERROR_DETAIL).to_response()

    def _register_responses(self) -> None:
        # flask-smorest documents error responses as application/json; ours are problem+json.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)
