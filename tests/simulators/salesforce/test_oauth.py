"""The token endpoint: client credentials (Basic or form), JWT bearer, and token expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from simulators.salesforce.app import create_app
from tests.simulators.salesforce.support import (
    CLIENT_ID,
    CLIENT_SECRET,
    DATA,
    JWT_SUBJECT,
    TOKEN_PATH,
    assertion,
    error_code,
    make_settings,
)
from tests.support.keys import new_signing_key

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def products(client, token: str):
    return client.get(f"{DATA}/sobjects/Product2/", headers={"Authorization": f"Bearer {token}"})


def test_client_credentials_in_basic_auth_give_a_working_token(app):
    client = app.test_client()
    answer = client.post(TOKEN_PATH, data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert answer.status_code == 200
    token = answer.json
    assert token["token_type"] == "Bearer" and token["instance_url"] == "http://localhost"
    assert token["id"].startswith("http://localhost/id/00D") and "/005" in token["id"]
    assert token["issued_at"].isdigit()
    expected = hmac.new(CLIENT_SECRET.encode(), (token["id"] + token["issued_at"]).encode(), hashlib.sha256)
    assert token["signature"] == base64.b64encode(expected.digest()).decode()
    assert products(client, token["access_token"]).status_code == 200


def test_client_credentials_in_the_form_give_a_working_token(app):
    client = app.test_client()
    answer = client.post(
        TOKEN_PATH, data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert answer.status_code == 200
    assert products(client, answer.json["access_token"]).status_code == 200


@pytest.mark.parametrize(
    "form, status, error",
    [
        ({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "wrong"}, 401, "invalid_client"),
        (
            {"grant_type": "client_credentials", "client_id": "someone-else", "client_secret": CLIENT_SECRET},
            401,
            "invalid_client",
        ),
        ({"grant_type": "password", "username": "u", "password": "p"}, 400, "unsupported_grant_type"),
    ],
)
def test_bad_client_credentials_and_unknown_grants_are_refused(app, form, status, error):
    answer = app.test_client().post(TOKEN_PATH, data=form)
    assert answer.status_code == status
    assert answer.json["error"] == error and answer.json["error_description"]


def test_the_simulator_refuses_to_start_without_its_connected_app():
    with pytest.raises(ValueError, match="SALESFORCE_CLIENT_SECRET"):
        create_app(make_settings(salesforce_client_secret=None))


def test_a_signed_jwt_assertion_gives_a_token_for_its_subject(app, signing_key, clock):
    client = app.test_client()
    answer = client.post(TOKEN_PATH, data={"grant_type": JWT_BEARER, "assertion": assertion(signing_key, clock=clock)})
    assert answer.status_code == 200, answer.json
    session = app.extensions["salesforce_org"].session(answer.json["access_token"])
    assert session.username == JWT_SUBJECT
    assert products(client, answer.json["access_token"]).status_code == 200


def test_the_org_itself_is_a_valid_jwt_audience(app, signing_key, clock):
    answer = app.test_client().post(
        TOKEN_PATH,
        data={"grant_type": JWT_BEARER, "assertion": assertion(signing_key, clock=clock, audience="http://localhost")},
    )
    assert answer.status_code == 200, answer.json


@pytest.mark.parametrize(
    "change, description",
    [
        ({"audience": "https://login.example.com"}, "audience is invalid"),
        ({"lifetime_seconds": -1}, "expired"),
        ({"lifetime_seconds": 600}, "3 minutes"),
        ({"subject": "stranger@acme.example"}, "approved"),
    ],
)
def test_jwt_assertions_with_bad_claims_are_refused(app, signing_key, clock, change, description):
    answer = app.test_client().post(
        TOKEN_PATH, data={"grant_type": JWT_BEARER, "assertion": assertion(signing_key, clock=clock, **change)}
    )
    assert answer.status_code == 400
    assert answer.json["error"] == "invalid_grant" and description in answer.json["error_description"]


def test_a_jwt_assertion_signed_by_another_key_is_refused(app, clock):
    forged = assertion(new_signing_key("intruder"), clock=clock)
    answer = app.test_client().post(TOKEN_PATH, data={"grant_type": JWT_BEARER, "assertion": forged})
    assert answer.status_code == 400
    assert answer.json == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_a_jwt_assertion_from_another_client_is_refused(app, signing_key, clock):
    answer = app.test_client().post(
        TOKEN_PATH,
        data={"grant_type": JWT_BEARER, "assertion": assertion(signing_key, clock=clock, issuer="another-app")},
    )
    assert answer.status_code == 400 and answer.json["error"] == "invalid_client"


def test_a_token_dies_after_its_ttl_with_invalid_session_id(rest, clock):
    assert rest.get("/sobjects/Product2/").status_code == 200
    clock.advance(7200)
    answer = rest.get("/sobjects/Product2/")
    assert answer.status_code == 401
    assert answer.json == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_an_unknown_token_is_an_invalid_session(rest):
    rest.token = "00D000000000001!not-a-token"
    assert error_code(rest.get("/sobjects/Product2/")) == "INVALID_SESSION_ID"


def test_expiring_all_tokens_forces_a_new_login(rest):
    assert rest.admin("POST", "/tokens/expire").json == {"expired": 1}
    assert rest.get("/sobjects/Product2/").status_code == 401
    rest.login()
    assert rest.get("/sobjects/Product2/").status_code == 200


def test_the_early_expiry_fault_shortens_every_tokens_life(rest, clock):
    rest.org.faults.update(expire_tokens_after_seconds=30)
    clock.advance(29)
    assert rest.get("/sobjects/Product2/").status_code == 200
    clock.advance(1)
    assert error_code(rest.get("/sobjects/Product2/")) == "INVALID_SESSION_ID"


def test_the_certificate_may_be_given_as_a_path(tmp_path, signing_key, clock):
    path = tmp_path / "connected-app.crt"
    path.write_text(signing_key.certificate_pem)
    app = create_app(make_settings(sf_sim_jwt_certificate=f"@{path}"), clock=clock)
    answer = app.test_client().post(
        TOKEN_PATH, data={"grant_type": JWT_BEARER, "assertion": assertion(signing_key, clock=clock)}
    )
    assert answer.status_code == 200, answer.json
