"""The OAuth 2.0 token endpoint, POST /services/oauth2/token: the client-credentials flow (client id
and secret in Basic auth or the form) and the JWT bearer flow (an RS256 assertion checked against
the connected app's certificate). The token endpoint does not count against the API limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import jwt
from flask import Blueprint, Response, current_app, request

from simulators.salesforce.errors import json_response, oauth_error
from simulators.salesforce.org import SalesforceOrg

TOKEN_PATH = "/services/oauth2/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
MAX_ASSERTION_LIFETIME_SECONDS = 180  # Salesforce refuses an exp more than 3 minutes ahead

blueprint = Blueprint("salesforce_oauth", __name__)


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def org() -> SalesforceOrg:
    return current_app.extensions["salesforce_org"]


def base_url() -> str:
    """The org's own URL as this request reached it (works over HTTP, HTTPS, in-process, and when
    mounted under a path prefix)."""
    return request.url_root.rstrip("/")


@blueprint.errorhandler(OAuthError)
def render_oauth_error(error: OAuthError) -> Response:
    return oauth_error(error.status, error.error, error.description)


@blueprint.post(TOKEN_PATH)
def token():
    the_org = org()
    if the_org.faults.settings.include_token_endpoint:
        verdict = the_org.faults.roll()
        time.sleep(verdict.delay_seconds)  # injected latency
        if verdict.unavailable:
            raise OAuthError(503, "temporarily_unavailable", "Server temporarily unavailable, please retry.")
    grant_type = request.form.get("grant_type", "")
    if grant_type == "client_credentials":
        username = client_credentials(the_org)
    elif grant_type == JWT_BEARER:
        username = jwt_bearer(the_org)
    else:
        raise OAuthError(400, "unsupported_grant_type", "grant type not supported")
    session = the_org.issue_token(username)
    instance_url = base_url()
    identity = f"{instance_url}/id/{the_org.org_id}/{session.user_id}"
    issued_at = str(int(session.issued_at.timestamp() * 1000))
    signature = hmac.new(the_org.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256)
    return json_response(
        {
            "access_token": session.access_token,
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "scope": "api",
            "signature": base64.b64encode(signature.digest()).decode(),
        }
    )


def client_credentials(the_org: SalesforceOrg) -> str:
    """Check the client's id and secret; the run-as user is the org's first user."""
    if request.authorization and request.authorization.type == "basic":
        client_id, secret = request.authorization.username, request.authorization.password
    else:
        client_id, secret = request.form.get("client_id", ""), request.form.get("client_secret", "")
    if not (
        hmac.compare_digest(client_id or "", the_org.client_id)
        and hmac.compare_digest(secret or "", the_org.client_secret)
    ):
        raise OAuthError(401, "invalid_client", "invalid client credentials")
    return next(iter(the_org.users))


def jwt_bearer(the_org: SalesforceOrg) -> str:
    """Check the assertion's signature, issuer, audience, subject and lifetime; return the subject."""
    if the_org.jwt_public_key is None:
        raise OAuthError(400, "invalid_grant", "the connected app has no certificate for the JWT bearer flow")
    try:
        # exp is checked below against the org's clock (which tests may move), not the wall clock.
        # A certificate's key may be of any kind; pyjwt's annotations name only those it verifies with (it
        # refuses another itself).
        claims = jwt.decode(
            request.form.get("assertion", ""),
            the_org.jwt_public_key,  # type: ignore[arg-type]
            algorithms=["RS256"],
            audience=[*LOGIN_AUDIENCES, base_url()],
            issuer=the_org.client_id,
            options={"require": ["iss", "sub", "aud", "exp"], "verify_exp": False},
        )
    except jwt.InvalidAudienceError:
        raise OAuthError(400, "invalid_grant", "audience is invalid") from None
    except jwt.InvalidIssuerError:
        raise OAuthError(400, "invalid_client", "client identifier invalid") from None
    except jwt.PyJWTError:
        raise OAuthError(400, "invalid_grant", "invalid assertion") from None
    now = the_org.clock().timestamp()
    if not isinstance(claims["exp"], (int, float)) or claims["exp"] <= now:
        raise OAuthError(400, "invalid_grant", "expired authorization code")
    if claims["exp"] > now + MAX_ASSERTION_LIFETIME_SECONDS:
        raise OAuthError(400, "invalid_grant", "invalid assertion: exp is more than 3 minutes ahead")
    if claims["sub"] not in the_org.users:
        raise OAuthError(400, "invalid_grant", "user hasn't approved this consumer")
    return claims["sub"]
