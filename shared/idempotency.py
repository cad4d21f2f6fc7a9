"""Idempotency-Key support for state-changing requests (draft-ietf-httpapi-idempotency-key-header).

A key is scoped to the caller (`flask.g.client_id`, else "anonymous") and stored in Redis as
`idem:{<client>:<key>}`: first an in-flight marker (SET NX, `idempotency_lock_seconds`), then
the response (`idempotency_ttl_seconds`). Outcomes:

- no key → 400 when `required` (the draft's status; 428 is for conditional requests), else the view just runs;
- same key, same request (method, path, query, body) → the stored response, plus `Idempotent-Replayed: true`;
- same key, different request → 422; same key while the first is still running → 409;
- responses with status >= 500 and unhandled exceptions are not stored: the key is released for a retry.

`current_key()` names the key of the request being run, for an operation that must know what an
earlier run of the same request left behind (a reservation whose request died).

Decorator order on a flask-smorest view: `idempotent` must sit ABOVE `@blp.response`, because it
stores the serialized response. Put it below `@blp.arguments` so an invalid body is rejected (422)
without taking or storing the key:

    @blp.arguments(ReservationRequest)
    @idempotent()
    @blp.response(201, ReservationSchema)
    def post(self, reservation_request): ...

(Above `@blp.arguments` also works; then validation failures are stored and replayed too.)
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, overload

import flask
from werkzeug.exceptions import HTTPException

from shared.errors import Problem, problem_from_http_exception

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag", "Content-Location", "Link")
_VALID_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")
_ACQUIRE_ATTEMPTS = 3

_LUA = Path(__file__).with_name("lua")
_COMPLETE = (_LUA / "idempotency_complete.lua").read_text()
_RELEASE = (_LUA / "idempotency_release.lua").read_text()


def idempotent(required: bool = True) -> Callable:
    """Make a view replay its stored response when retried with the same Idempotency-Key."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> flask.Response:
            key = presented_key(required=required)
            if key is None:
                return view(*args, **kwargs)
            return _run_once(key, lambda: view(*args, **kwargs))

        _document(wrapper, required)
        return wrapper

    return decorator


def key_required(view: Callable) -> Callable:
    """Refuse a request without an Idempotency-Key (400) before anything else of the view runs, e.g.
    above `@blp.arguments` so that the missing key, not the body, is what a client hears of first."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        presented_key(required=True)
        return view(*args, **kwargs)

    return wrapper


@overload
def presented_key(*, required: Literal[True]) -> str: ...


@overload
def presented_key(*, required: bool) -> str | None: ...


def presented_key(*, required: bool) -> str | None:
    """The request's Idempotency-Key, unquoted; 400 when malformed, or when missing and `required` (the
    one answer every API gives a write that needs a key and lacks one)."""
    raw = flask.request.headers.get(KEY_HEADER)
    if raw is None:
        if required:
            raise Problem(
                400,
                f"This operation requires an {KEY_HEADER} header (a unique value per intended "
                "operation, reused on retries).",
                type_slug="idempotency-key-missing",
            )
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]  # the draft sends the key as a structured-field string: "abc"
    if not _VALID_KEY.fullmatch(key):
        raise Problem(
            400,
            f"{KEY_HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            type_slug="idempotency-key-invalid",
        )
    return key


def _fingerprint() -> str:
    request = flask.request
    target = request.path + ("?" + request.query_string.decode("latin-1") if request.query_string else "")
    digest = hashlib.sha256(f"{request.method}\n{target}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _run_once(key: str, view: Callable[[], Any]) -> flask.Response:
    redis = flask.current_app.extensions["redis"]
    settings = flask.current_app.extensions["settings"]
    client = flask.g.get("client_id") or "anonymous"
    storage_key = f"idem:{{{client}:{key}}}"
    fingerprint = _fingerprint()
    marker = json.dumps({"state": "in_flight", "fingerprint": fingerprint, "token": uuid.uuid4().hex})

    for _ in range(_ACQUIRE_ATTEMPTS):
        if redis.set(storage_key, marker, nx=True, ex=settings.idempotency_lock_seconds):
            break
        stored = redis.get(storage_key)
        if stored is not None:
            return _answer_from_record(json.loads(stored), fingerprint)
        # The key was released or expired between SET NX and GET: try to take it again.
    else:
        raise _in_flight()

    flask.g.idempotency_key = storage_key
    try:
        response = flask.make_response(view())
    except Problem as problem:
        response = problem.to_response()
    except HTTPException as error:
        response = problem_from_http_exception(error).to_response()
    except BaseException:
        redis.register_script(_RELEASE)(keys=[storage_key], args=[marker])
        raise

    if response.status_code >= 500:
        redis.register_script(_RELEASE)(keys=[storage_key], args=[marker])
    else:
        record = {
            "state": "done",
            "fingerprint": fingerprint,
            "status": response.status_code,
            "body": response.get_data(as_text=True),
            "headers": {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers},
        }
        redis.register_script(_COMPLETE)(
            keys=[storage_key], args=[marker, json.dumps(record), settings.idempotency_ttl_seconds]
        )
    return response


def current_key() -> str | None:
    """The client-scoped Idempotency-Key of the request being run (as stored), if it has one."""
    return flask.g.get("idempotency_key")


def _answer_from_record(record: dict[str, Any], fingerprint: str) -> flask.Response:
    if record["fingerprint"] != fingerprint:
        raise Problem(
            422,
            f"This {KEY_HEADER} was already used for a different request; use a new key for a new operation.",
            type_slug="idempotency-key-reused",
        )
    if record["state"] == "in_flight":
        raise _in_flight()
    response = flask.Response(record["body"], status=record["status"])
    response.headers.update(record["headers"])
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _in_flight() -> Problem:
    return Problem(
        409,
        f"A request with this {KEY_HEADER} is still being processed; retry later.",
        type_slug="idempotency-key-in-flight",
        headers={"Retry-After": "1"},
    )


def _document(view: Callable, required: bool) -> None:
    # flask-smorest builds the OpenAPI operation from `_apidoc`; add the header and its errors.
    apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))  # never edit the wrapped view's doc
    view._apidoc = apidoc  # type: ignore[attr-defined]  # flask-smorest's attribute on view functions
    apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(
        {
            "in": "header",
            "name": KEY_HEADER,
            "required": required,
            "description": "Unique per intended operation; a retry with the same key and body replays the "
            "first response (409 while it is in flight, 422 if the body differs).",
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        }
    )
    responses = apidoc.setdefault("response", {}).setdefault("responses", {})
    for status, name in ((400, "BAD_REQUEST"), (409, "CONFLICT"), (422, "UNPROCESSABLE_ENTITY")):
        responses.setdefault(status, [name])
