"""Fixtures of the Salesforce simulator tests: an org on a test clock, reached in-process or over
real HTTPS (certificates from trustme), and JWT bearer keys with a self-signed certificate."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import trustme
from werkzeug.serving import make_server

from simulators.salesforce.app import create_app
from simulators.salesforce.org import OrgOptions
from tests.simulators.salesforce.support import Clock, Rest, make_settings
from tests.support.keys import SigningKey, new_signing_key


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return new_signing_key()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def org_options() -> OrgOptions:
    return OrgOptions(page_size=5)


@pytest.fixture
def settings_overrides() -> dict:
    return {}


@pytest.fixture
def app(clock, org_options, signing_key, settings_overrides):
    settings = make_settings(sf_sim_jwt_certificate=signing_key.certificate_pem, **settings_overrides)
    return create_app(settings, options=org_options, clock=clock)


@pytest.fixture
def rest(app) -> Rest:
    rest = Rest(app, app.test_client())
    rest.login()
    return rest


@dataclass(frozen=True)
class HttpsOrg:
    url: str  # https://localhost:PORT
    ca_file: str  # the CA bundle clients verify the server against
    rest: Rest


@pytest.fixture(scope="session")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_org(app, certificate_authority, tmp_path) -> Iterator[HttpsOrg]:
    """The org served by werkzeug over TLS on a free port, in threads."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        rest = Rest(app, app.test_client())
        rest.login()
        yield HttpsOrg(f"https://localhost:{server.server_port}", str(ca_file), rest)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
