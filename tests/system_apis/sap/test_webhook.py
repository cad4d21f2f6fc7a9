"""Who may push business events (HMAC signature, Basic auth or an OAuth 2.0 bearer token) and how
CloudEvents are read, in structured (`application/cloudevents+json` or `application/json`) and binary
content mode."""

from __future__ import annotations

import base64
import json
import time

import pytest
from werkzeug.datastructures import Headers

from shared.errors import Problem
from system_apis.sap.webhook import (
    MATERIAL_DOCUMENT_CREATED,
    IssuerKeys,
    material_document_key,
    parse_cloud_event,
    signature,
    verify_basic,
    verify_bearer,
    verify_hmac,
)
from tests.system_apis.sap.support import AUDIENCE, ISSUER, TokenIssuer

SECRET = "s3cret"
NOW = 1_800_000_000
BODY = b'{"specversion":"1.0"}'


def _signed(body: bytes = BODY, *, at: int = NOW, secret: str = SECRET) -> Headers:
    return Headers({"X-Signature-Timestamp": str(at), "X-Signature": signature(secret, str(at), body)})


def _refused(call) -> Problem:
    with pytest.raises(Problem) as raised:
        call()
    assert raised.value.status == 401
    return raised.value


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"123." + b"body", hashlib.sha256).hexdigest()
    assert signature("k", "123", b"body") == f"sha256={expected}"


def test_a_correctly_signed_push_is_accepted():
    verify_hmac(SECRET, _signed(), BODY, max_age_seconds=300, now=NOW + 299)


@pytest.mark.parametrize(
    "headers, body",
    [
        (_signed(secret="other"), BODY),
        (_signed(), BODY + b" "),
        (Headers({"X-Signature-Timestamp": str(NOW), "X-Signature": "sha256=00"}), BODY),
        (Headers({"X-Signature-Timestamp": str(NOW + 1), "X-Signature": signature(SECRET, str(NOW), BODY)}), BODY),
    ],
)
def test_a_wrong_signature_is_refused(headers, body):
    assert (
        "signature does not match"
        in _refused(lambda: verify_hmac(SECRET, headers, body, max_age_seconds=300, now=NOW)).detail
    )


@pytest.mark.parametrize("signed_at", [NOW - 301, NOW + 301])
def test_a_timestamp_too_old_or_too_far_ahead_is_refused(signed_at):
    problem = _refused(lambda: verify_hmac(SECRET, _signed(at=signed_at), BODY, max_age_seconds=300, now=NOW))
    assert "300 s" in problem.detail


@pytest.mark.parametrize(
    "headers",
    [
        Headers(),
        Headers({"X-Signature": signature(SECRET, str(NOW), BODY)}),
        Headers({"X-Signature-Timestamp": str(NOW)}),
        Headers({"X-Signature-Timestamp": "yesterday", "X-Signature": "sha256=00"}),
    ],
)
def test_missing_or_malformed_signature_headers_are_refused(headers):
    _refused(lambda: verify_hmac(SECRET, headers, BODY, max_age_seconds=300, now=NOW))


def test_without_a_configured_secret_nothing_is_accepted():
    _refused(lambda: verify_hmac(None, _signed(), BODY, max_age_seconds=300, now=NOW))


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_mode_accepts_the_configured_user():
    verify_basic("COMM", "pw", _basic("COMM", "pw"))


@pytest.mark.parametrize(
    "authorization", [None, "", _basic("COMM", "wrong"), _basic("OTHER", "pw"), "Bearer abc", "Basic !!!"]
)
def test_basic_mode_refuses_anything_else_and_asks_for_credentials(authorization):
    problem = _refused(lambda: verify_basic("COMM", "pw", authorization))
    assert problem.headers["WWW-Authenticate"].startswith("Basic")


EVENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/default/sap.s4.beh/S4HCLNT100",
    "type": MATERIAL_DOCUMENT_CREATED,
    "time": "2026-01-05T10:15:00Z",
    "datacontenttype": "application/json",
    "data": {"MaterialDocument": "4900000000", "MaterialDocumentYear": "2026"},
}


def test_a_structured_cloud_event_is_read_from_the_body():
    event = parse_cloud_event(
        Headers({"Content-Type": "application/cloudevents+json; charset=utf-8"}), json.dumps(EVENT).encode()
    )
    assert (event.id, event.type) == ("e-1", MATERIAL_DOCUMENT_CREATED)
    assert material_document_key(event) == ("2026", "4900000000")


def test_a_binary_cloud_event_is_read_from_ce_headers_and_the_data_body():
    headers = Headers(
        {
            "Content-Type": "application/json",
            "ce-specversion": "1.0",
            "ce-id": "e-2",
            "ce-source": EVENT["source"],
            "ce-type": MATERIAL_DOCUMENT_CREATED,
            "ce-time": EVENT["time"],
        }
    )
    event = parse_cloud_event(headers, json.dumps(EVENT["data"]).encode())
    assert event.id == "e-2"
    assert material_document_key(event) == ("2026", "4900000000")


def test_a_structured_cloud_event_sent_as_plain_application_json_is_read_from_the_body():
    """SAP Event Mesh delivers S/4HANA's events to a webhook as the whole CloudEvent in a JSON body with
    `Content-Type: application/json` (no ce-* headers); the CloudEvents HTTP binding reads a message
    without ce-specversion as structured."""
    event = parse_cloud_event(Headers({"Content-Type": "application/json; charset=utf-8"}), json.dumps(EVENT).encode())
    assert (event.id, event.type, event.source) == ("e-1", MATERIAL_DOCUMENT_CREATED, EVENT["source"])
    assert material_document_key(event) == ("2026", "4900000000")


def test_structured_data_may_come_base64_encoded():
    body = {
        **{k: v for k, v in EVENT.items() if k != "data"},
        "data_base64": base64.b64encode(json.dumps(EVENT["data"]).encode()).decode(),
    }
    event = parse_cloud_event(Headers({"Content-Type": "application/cloudevents+json"}), json.dumps(body).encode())
    assert material_document_key(event) == ("2026", "4900000000")


@pytest.mark.parametrize(
    "headers, body, status",
    [
        ({"Content-Type": "text/plain"}, b"hello", 415),
        ({"Content-Type": "application/cloudevents-batch+json"}, b"[]", 415),
        ({"Content-Type": "application/cloudevents+json"}, b"{not json", 400),
        ({"Content-Type": "application/cloudevents+json"}, json.dumps({**EVENT, "id": ""}).encode(), 400),
        ({"Content-Type": "application/cloudevents+json"}, json.dumps({**EVENT, "specversion": "0.3"}).encode(), 400),
        ({"Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "x"}, b"{}", 400),
        ({"Content-Type": "application/json"}, b'{"MaterialDocument": "4900000000"}', 400),
        ({"Content-Type": "application/json"}, b"[]", 400),
    ],
)
def test_what_is_not_a_cloud_event_is_a_client_error(headers, body, status):
    with pytest.raises(Problem) as raised:
        parse_cloud_event(Headers(headers), body)
    assert raised.value.status == status


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"MaterialDocument": "49", "MaterialDocumentYear": "26"},
        {"MaterialDocument": "49')/x", "MaterialDocumentYear": "2026"},
        {"MaterialDocument": "4900000000\n", "MaterialDocumentYear": "2026"},
        {"MaterialDocument": "4900000000", "MaterialDocumentYear": "2026\n"},
    ],
)
def test_a_creation_event_must_name_a_plausible_material_document(data):
    event = parse_cloud_event(
        Headers({"Content-Type": "application/cloudevents+json"}), json.dumps({**EVENT, "data": data}).encode()
    )
    with pytest.raises(Problem) as raised:
        material_document_key(event)
    assert raised.value.status == 422


@pytest.mark.parametrize("text", ["e-1\n", "e-1\u0000", "\ud800", "e" * 1001])
@pytest.mark.parametrize("attribute", ["id", "source", "type"])
def test_a_cloud_event_attribute_with_a_control_character_or_too_long_is_a_400_naming_it(attribute, text):
    body = json.dumps({**EVENT, attribute: text}).encode()

    with pytest.raises(Problem) as raised:
        parse_cloud_event(Headers({"Content-Type": "application/cloudevents+json"}), body)

    assert raised.value.status == 400 and attribute in raised.value.detail


# -- OAuth 2.0 bearer tokens (RFC 6750), JWTs checked against the issuer's published keys ------------
@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture
def keys(issuer, tmp_path) -> IssuerKeys:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(issuer.jwks()))
    return IssuerKeys(str(path), timeout_seconds=1.0)


def _bearer(keys: IssuerKeys, token: str | None) -> None:
    verify_bearer(keys, f"Bearer {token}" if token is not None else None, issuer=ISSUER, audience=AUDIENCE)


def test_a_token_signed_by_the_issuer_for_this_audience_is_accepted(issuer, keys):
    _bearer(keys, issuer.token())


def _unsigned(**claims) -> str:
    import jwt

    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, **claims}
    return jwt.encode(payload, None, algorithm="none")


def _signed_with_the_public_key_as_hmac_secret(issuer: TokenIssuer) -> str:
    """The RS256/HS256 key confusion: the issuer's public key (which anyone has) as an HMAC secret."""
    import hashlib
    import hmac as hmac_

    from cryptography.hazmat.primitives import serialization

    public = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}).encode())
    body = b64(json.dumps({"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300}).encode())
    mac = hmac_.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda issuer: issuer.token(iss="https://someone-else.example.com"), id="other issuer"),
        pytest.param(lambda issuer: issuer.token(aud="another-api"), id="other audience"),
        pytest.param(lambda issuer: issuer.token(lifetime=-120), id="expired"),
        pytest.param(lambda issuer: _unsigned(), id="alg none"),
        pytest.param(lambda issuer: TokenIssuer(kid=issuer.kid).token(), id="signed by another key"),
        pytest.param(lambda issuer: TokenIssuer(kid="unknown-kid").token(), id="key the issuer never published"),
        pytest.param(_signed_with_the_public_key_as_hmac_secret, id="HS256 with the public key"),
        pytest.param(lambda issuer: issuer.token()[:-4] + "AAAA", id="signature tampered"),
        pytest.param(lambda issuer: "not-a-jwt", id="not a JWT"),
        pytest.param(lambda issuer: None, id="no Authorization header"),
    ],
)
def test_a_token_not_from_the_issuer_for_this_audience_and_in_date_is_refused(issuer, keys, token):
    problem = _refused(lambda: _bearer(keys, token(issuer)))
    assert problem.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("authorization", ["Basic Q09NTTpwdw==", "bearer", "Token abc"])
def test_bearer_mode_wants_the_bearer_scheme(keys, authorization):
    _refused(lambda: verify_bearer(keys, authorization, issuer=ISSUER, audience=AUDIENCE))
