"""The SAP business-event webhook's edge: who may push (HMAC signature, Basic auth, or an OAuth 2.0
bearer token of a configured issuer), the CloudEvents webhook validation handshake, and how a
CloudEvent is read from a request (structured, as `application/cloudevents+json` or, as SAP Event
Mesh sends it, `application/json`; or binary, with `ce-*` headers and the data as the body)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from werkzeug.datastructures import Headers

from shared import json_bodies
from shared.errors import Problem
from shared.validators import is_clean_text

logger = logging.getLogger(__name__)

MATERIAL_DOCUMENT_CREATED = "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1"
MATERIAL_DOCUMENT_CANCELED = "sap.s4.beh.materialdocument.v1.MaterialDocument.Canceled.v1"
#: The event types this webhook consumes; any other is acknowledged and counted as "other".
CONSUMED_TYPES = (MATERIAL_DOCUMENT_CREATED, MATERIAL_DOCUMENT_CANCELED)
STRUCTURED = "application/cloudevents+json"
JSON = "application/json"
BATCH = "application/cloudevents-batch+json"
SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
_REQUIRED = ("specversion", "id", "source", "type")
#: Longest id, source or type taken (SAP's are well under 200 characters); they are logged and answered back.
MAX_ATTRIBUTE_LENGTH = 1000
#: A request's headers (werkzeug's Headers is no Mapping to its stubs) or a plain dict.
RequestHeaders = Mapping[str, str] | Headers
_YEAR = re.compile(r"^\d{4}$")
#: A sender's WebHook-Request-Origin: a DNS name (optionally with a port), echoed back when granted.
_ORIGIN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*(?::\d{1,5})?$"
)
#: Signature algorithms a broker's token may use: asymmetric only, so the issuer's public key can never
#: be taken as an HMAC secret (RS256/HS256 confusion), and never "none".
TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
#: Clock difference allowed between the issuer and the gateway on a token's exp / nbf / iat.
TOKEN_LEEWAY_SECONDS = 30
#: How long keys fetched from a JWKS URL are used before they are fetched again (a key the cache lacks is
#: fetched at once, so a rotated key is picked up on its first token).
JWKS_CACHE_SECONDS = 300
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


class IssuerKeys:
    """The signing keys of the OAuth 2.0 issuer whose tokens the broker sends: a JWKS file (read at start)
    or a JWKS URL (fetched with a timeout, cached JWKS_CACHE_SECONDS, fetched again for a key it lacks)."""

    def __init__(self, source: str, *, timeout_seconds: float) -> None:
        self.source = source
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if source.startswith(("https://", "http://")):
            self._client = jwt.PyJWKClient(
                source, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=timeout_seconds
            )
        else:
            self._keys = jwt.PyJWKSet.from_dict(json.loads(Path(source).read_text()))

    def signing_key(self, token: str) -> jwt.PyJWK:
        """The key the token names (its `kid`; a JWKS of one key serves a token naming none)."""
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token)
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        keys = self._keys.keys
        if kid is None and len(keys) == 1:
            return keys[0]
        found = next((key for key in keys if key.key_id == kid), None)
        if found is None:
            raise jwt.PyJWKError(f"the issuer's keys hold no key {kid!r}")
        return found


def _bearer_refused(detail: str) -> Problem:
    # RFC 6750 section 3: a refused bearer token is answered with a Bearer challenge.
    return Problem(
        401,
        detail,
        type_slug="webhook-unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="sap-business-events"'},
    )


def verify_bearer(keys: IssuerKeys, authorization: str | None, *, issuer: str, audience: str) -> None:
    """Accept a push carrying an OAuth 2.0 bearer token (a JWT) signed by one of the issuer's keys, issued
    by `issuer` for `audience`, and in date."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _bearer_refused("A bearer token is required.")
    token = token.strip()
    try:
        key = keys.signing_key(token)
        jwt.decode(
            token,
            key,
            algorithms=list(TOKEN_ALGORITHMS),
            issuer=issuer,
            audience=audience,
            leeway=TOKEN_LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWKClientConnectionError as error:
        # The keys could not be fetched: that says nothing about the push, so the broker redelivers.
        logger.warning(
            "the webhook issuer's keys could not be fetched", extra={"jwks": keys.source, "cause": str(error)}
        )
        raise Problem(
            503,
            "The issuer's signing keys cannot be fetched right now; redeliver.",
            type_slug="webhook-keys-unavailable",
            headers={"Retry-After": "10"},
        ) from None
    except (jwt.InvalidTokenError, jwt.PyJWKError, jwt.PyJWKClientError) as error:
        raise _bearer_refused(f"The bearer token is not accepted: {error}.") from None


def verify_sender(settings, headers: RequestHeaders, body: bytes, *, issuer_keys: IssuerKeys | None = None) -> None:
    """Accept the push as SAP_WEBHOOK_AUTH says it is authenticated (one scheme, never guessed)."""
    if settings.sap_webhook_auth == "basic":
        verify_basic(settings.sap_user, settings.sap_password, headers.get("Authorization"))
    elif settings.sap_webhook_auth == "oauth":
        if issuer_keys is None:
            raise _bearer_refused("The push cannot be verified.")
        verify_bearer(
            issuer_keys,
            headers.get("Authorization"),
            issuer=settings.sap_webhook_issuer,
            audience=settings.sap_webhook_audience,
        )
    else:
        verify_hmac(settings.sap_webhook_secret, headers, body, max_age_seconds=settings.sap_webhook_max_age_seconds)


def handshake_headers(headers: RequestHeaders) -> dict[str, str]:
    """The answer to a CloudEvents webhook validation request (HTTP 1.1 Web Hooks for Event Delivery,
    section 4): the origin asked for is granted, at any rate. The permission is always given in the answer,
    never by calling a WebHook-Request-Callback URL, so an unauthenticated request cannot make the gateway
    call a URL it names. Without WebHook-Request-Origin it is a plain OPTIONS and grants nothing."""
    allowed = {"Allow": "OPTIONS, POST"}
    origin = headers.get("WebHook-Request-Origin")
    if origin is None:
        return allowed
    origin = origin.strip()
    if not _ORIGIN.fullmatch(origin):
        raise _bad(400, "WebHook-Request-Origin must be the DNS name of the sending system.", "invalid-handshake")
    return {**allowed, "WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*"}


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
        attributes, data = _structured(body)
    elif headers.get("ce-specversion"):
        attributes = {name[3:].lower(): value for name, value in headers.items() if name.lower().startswith("ce-")}
        data = _json(body, "The body (the event's data) is not JSON.") if body.strip() else None
    elif mimetype == JSON:
        # No ce-specversion header: the CloudEvents HTTP binding reads it as structured. SAP Event Mesh
        # delivers S/4HANA's events so, the whole event as the JSON body.
        attributes, data = _structured(body)
    else:
        raise _bad(
            415,
            f"Expected a CloudEvent: Content-Type {STRUCTURED} or {JSON} holding the event, or ce-* headers with "
            "the data as the body.",
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


def _structured(body: bytes) -> tuple[dict, object]:
    """(attributes, data) of a CloudEvent in structured mode: the whole event as the JSON body."""
    attributes = _json(body, "The body is not a JSON CloudEvent.")
    if not isinstance(attributes, dict):
        raise _bad(400, "The body is not a JSON CloudEvent.")
    data = attributes.pop("data", None)
    if "data_base64" in attributes:
        data = _json(_base64(attributes.pop("data_base64")), "data_base64 does not hold JSON.")
    return attributes, data


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
