"""The OAuth 2.0 session with Salesforce: how an access token is obtained (client credentials or
JWT bearer) and the one cached token every REST call of this process shares.

Salesforce's token answer carries no expiry (the session lives as long as the org's session
policy says), so the token is kept until a REST call answers 401 INVALID_SESSION_ID; then the
caller asks for a refresh naming the token that failed, and concurrent callers that saw the same
failure share one new token instead of each fetching their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from shared.config import text_or_file

TOKEN_PATH = "/services/oauth2/token"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Salesforce accepts an assertion for at most 3 minutes.
ASSERTION_LIFETIME_SECONDS = 180


@dataclass(frozen=True)
class AccessToken:
    value: str
    #: Where the org's REST API is (the token answer's instance_url).
    instance_url: str


class TokenRequestError(Exception):
    """Salesforce refused to issue a token (bad client, bad assertion...): not worth a retry."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.status, self.error, self.description = status, error, description


@dataclass(frozen=True)
class ClientCredentials:
    """The client credentials flow: the connected app's consumer key and secret."""

    client_id: str
    client_secret: str

    def form(self, login_url: str) -> dict:
        return {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}


@dataclass(frozen=True)
class JwtBearer:
    """The JWT bearer flow: an RS256 assertion signed with the connected app's private key,
    issued by its consumer key, for the integration user `subject`, to the login URL."""

    client_id: str
    private_key: str
    subject: str
    clock: Callable[[], float] = time.time

    def assertion(self, login_url: str) -> str:
        claims = {
            "iss": self.client_id,
            "sub": self.subject,
            "aud": login_url,
            "exp": int(self.clock()) + ASSERTION_LIFETIME_SECONDS,
        }
        return jwt.encode(claims, self.private_key, algorithm="RS256")

    def form(self, login_url: str) -> dict:
        return {"grant_type": JWT_BEARER_GRANT, "assertion": self.assertion(login_url)}


@dataclass(frozen=True)
class Unconfigured:
    """No usable credentials: the app still starts (and documents itself), and every token request
    is refused with `reason`, so each call to Salesforce answers a problem naming the missing setting."""

    reason: str

    def form(self, login_url: str) -> dict:
        raise TokenRequestError(0, "not_configured", self.reason)


def flow_from_settings(settings) -> ClientCredentials | JwtBearer | Unconfigured:
    if not settings.salesforce_client_id:
        return Unconfigured("SALESFORCE_CLIENT_ID is not set")
    if settings.salesforce_auth_flow == "jwt_bearer":
        if not (settings.salesforce_jwt_private_key and settings.salesforce_jwt_subject):
            return Unconfigured(
                "SALESFORCE_AUTH_FLOW=jwt_bearer needs SALESFORCE_JWT_PRIVATE_KEY and SALESFORCE_JWT_SUBJECT"
            )
        return JwtBearer(
            settings.salesforce_client_id,
            text_or_file(settings.salesforce_jwt_private_key),
            settings.salesforce_jwt_subject,
        )
    return ClientCredentials(settings.salesforce_client_id, settings.salesforce_client_secret or "")


class TokenCache:
    """The current access token; `fetch()` (which asks Salesforce) runs for one caller at a time."""

    def __init__(self, fetch) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self.fetches = 0

    def current(self) -> AccessToken:
        token = self._token
        if token is not None:
            return token
        with self._lock:
            if self._token is None:
                self._token = self._fetch()
                self.fetches += 1
            return self._token

    def refresh(self, rejected: AccessToken) -> AccessToken:
        """A new token, unless another caller already replaced the `rejected` one."""
        with self._lock:
            if self._token is None or self._token.value == rejected.value:
                self._token = self._fetch()
                self.fetches += 1
            return self._token
