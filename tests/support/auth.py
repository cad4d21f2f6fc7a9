"""Credentials for tests: in-process test clients that send this process's service key (accepted by
every API built in the test process), and keys stored in a test Redis for servers in other processes."""

from __future__ import annotations

import requests
from flask.testing import FlaskClient
from werkzeug.test import Client

from shared.auth import CredentialStore, service_api_key

SERVICE_CLIENT_ID = "test-service"


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def keyed_client(app, api_key: str) -> FlaskClient:
    """`app.test_client()` sending `api_key` with every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {api_key}"
    return client


def service_client(app) -> FlaskClient:
    """A test client calling as a tier-to-tier service account (scope `service`)."""
    return keyed_client(app, service_api_key())


def keyed_session(api_key: str | None = None) -> requests.Session:
    """A requests session sending `api_key` (default this process's service key, which servers running
    inside the test process accept)."""
    session = requests.Session()
    session.headers.update(bearer(api_key or service_api_key()))
    return session


class KeyedWsgiClient(Client):
    """A werkzeug test client of any WSGI app (e.g. the composed gateway) sending `api_key`, unless a
    request gives its own Authorization header."""

    def __init__(self, app, api_key: str | None = None) -> None:
        super().__init__(app)
        self.api_key = api_key or service_api_key()

    def open(self, *args, **kwargs):
        kwargs.setdefault("environ_base", {}).setdefault("HTTP_AUTHORIZATION", f"Bearer {self.api_key}")
        return super().open(*args, **kwargs)


def stored_service_key(redis, client_id: str = SERVICE_CLIENT_ID) -> str:
    """A service credential created (or rotated) in `redis`, for gateway processes serving on it."""
    _, api_key = CredentialStore(redis, cache_seconds=0).create(
        client_id, kind="service", scopes=["service"], rotate=True
    )
    return api_key
