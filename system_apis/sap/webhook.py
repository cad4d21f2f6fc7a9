"""The SAP business-event webhook's edge: who may push (HMAC signature or Basic auth) and how a
CloudEvent is read from a request (structured `application/cloudevents+json`, or binary with
`ce-*` headers and the data as the body)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from werkzeug.datastructures import Headers

from shared import json_bodies
from shared.errors import Problem
from shared.validators import is_clean_text

logger = logging.getLogger(__name__)

MATERIAL_DOCUMENT_CREATED = "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1"
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
_REQUIRED = ("specversion", "id", "source", "type")
#: Longest id, source or type taken (SAP's are well under 200 characters); they are logged and answered back.
MAX_ATTRIBUTE_LENGTH = 1000
#: A request's headers (werkzeug's Headers is no Mapping to its stubs) or a plain dict.
RequestHeaders = Mapping[str, str] | Headers
_YEAR = re.compile(r"^\d{4}$")
_DOCUMENT = re.compile(r"^[0-9A-Za-z]{1,10}$")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Signature` value of a push: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _unauthorized(detail: str, *, basic: bool = False) -> Problem:
    headers = {"WWW-Authenticate": 'Basic realm="sap-business-events"'} if basic else {}
    return Problem(401, detail, type_slug="webhook-unauthorized", headers=headers)


def verify_hmac(
    secret: str | None, headers: RequestHeaders, body: bytes, *, max_age_seconds: int, now: float | None = None
) -> None:
    """Accept a push signed with the shared secret within `max_age_seconds` of now (either way)."""
    if not secret:
        logger.error("SAP_WEBHOOK_SECRET is not set: every signed business event is refused")
        raise _unauthorized("The push cannot be verified.")
    timestamp, given = headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
    if not timestamp or not given:
        raise _unauthorized(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required.")
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise _unauthorized(f"{TIMESTAMP_HEADER} must be Unix seconds.") from None
    now = time.time() if now is None else now
    if abs(now - signed_at) > max_age_seconds:
        raise _unauthorized(f"The signature timestamp is more than {max_age_seconds} s away from now.")
    if not hmac.compare_digest(given.strip().encode(), signature(secret, timestamp, body).encode()):
        raise _unauthorized("The signature does not match the body.")


def verify_basic(user: str | None, password: str | None, authorization: str | None) -> None:
    """Accept a push carrying Basic credentials equal to SAP_USER / SAP_PASSWORD."""
    if not user:
        logger.error("SAP_USER is not set: every Basic-authenticated business event is refused")
        raise _unauthorized("The push cannot be verified.", basic=True)
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise _unauthorized("Basic credentials are required.", basic=True)
    try:
        given_user, _, given_password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _unauthorized("The Basic credentials are malformed.", basic=True) from None
    user_ok = hmac.compare_digest(given_user.encode(), user.encode())
    password_ok = hmac.compare_digest(given_password.encode(), (password or "").encode())
    if not (user_ok and password_ok):
        raise _unauthorized("The credentials are not accepted.", basic=True)


def verify_sender(settings, headers: RequestHeaders, body: bytes) -> None:
    if settings.sap_webhook_auth == "basic":
        verify_basic(settings.sap_user, settings.sap_password, headers.get("Authorization"))
    else:
        verify_hmac(settings.sap_webhook_secret, headers, body, max_age_seconds=settings.sap_webhook_max_age_seconds)


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    specversion: str
    data: object = None
    attributes: dict = field(default_factory=dict)


def _bad(status: int, detail: str, slug: str = "invalid-cloud-event") -> Problem:
    return Problem(status, detail, type_slug=slug)


def parse_cloud_event(headers: RequestHeaders, body: bytes) -> CloudEvent:
    """A CloudEvent 1.0 in structured or binary content mode; 400/415 problems otherwise."""
    mimetype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if mimetype == BATCH:
        raise _bad(415, "Batched CloudEvents are not accepted; push one event per request.", "unsupported-media-type")
    if mimetype == STRUCTURED:
        attributes = _json(body, "The body is not a JSON CloudEvent.")
        if not isinstance(attributes, dict):
            raise _bad(400, "The body is not a JSON CloudEvent.")
        data = attributes.pop("data", None)
        if "data_base64" in attributes:
            data = _json(_base64(attributes.pop("data_base64")), "data_base64 does not hold JSON.")
    elif headers.get("ce-specversion"):
        attributes = {name[3:].lower(): value for name, value in headers.items() if name.lower().startswith("ce-")}
        data = _json(body, "The body (the event's data) is not JSON.") if body.strip() else None
    else:
        raise _bad(
            415,
            f"Expected a CloudEvent: Content-Type {STRUCTURED}, or ce-* headers with the data as the body.",
            "unsupported-media-type",
        )
    missing = [name for name in _REQUIRED if not isinstance(attributes.get(name), str) or not attributes.get(name)]
    if missing:
        raise _bad(400, f"CloudEvent attribute(s) missing: {', '.join(missing)}")
    unclean = [
        name
        for name in _REQUIRED
        if len(attributes[name]) > MAX_ATTRIBUTE_LENGTH or not is_clean_text(attributes[name])
    ]
    if unclean:
        raise _bad(
            400,
            f"CloudEvent attribute(s) {', '.join(unclean)} hold control characters, lone surrogates or more than "
            f"{MAX_ATTRIBUTE_LENGTH} characters.",
        )
    if attributes["specversion"] != "1.0":
        raise _bad(400, f"CloudEvents specversion {attributes['specversion']} is not supported (1.0 is).")
    return CloudEvent(
        id=attributes["id"],
        source=attributes["source"],
        type=attributes["type"],
        specversion=attributes["specversion"],
        data=data,
        attributes=attributes,
    )


def material_document_key(event: CloudEvent) -> tuple[str, str]:
    """(MaterialDocumentYear, MaterialDocument) named by a MaterialDocument business event."""
    data = event.data if isinstance(event.data, dict) else {}
    year, number = str(data.get("MaterialDocumentYear", "")), str(data.get("MaterialDocument", ""))
    if not _YEAR.fullmatch(year) or not _DOCUMENT.fullmatch(number):
        raise Problem(
            422,
            "The event's data must name MaterialDocumentYear (4 digits) and MaterialDocument.",
            type_slug="invalid-business-event",
            errors={"data": {"MaterialDocumentYear": year, "MaterialDocument": number}},
        )
    return year, number


def _json(raw: bytes, detail: str):
    try:
        return json_bodies.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _bad(400, detail) from None


def _base64(value) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise _bad(400, "data_base64 is not base64.") from None
