"""The OAuth session with Salesforce: both flows against the simulator's token endpoint, the shared
token cache, and one refresh when Salesforce says the session died."""

from __future__ import annotations

import dataclasses
import threading

import jwt
import pytest
from cryptography import x509

from simulators.salesforce.app import create_app as create_simulator
from system_apis.salesforce.app import create_app
from system_apis.salesforce.auth import JwtBearer, TokenCache
from tests.support.auth import service_client
from tests.support.keys import new_signing_key
from tests.support.processes import serving
from tests.system_apis.salesforce.conftest import FAST
from tests.system_apis.salesforce.support import CLIENT_ID, admin, outcome, records

SUBJECT = "integration@inventory-gateway.example"


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    """(private key PEM, self-signed certificate PEM) of a connected app, made for these tests."""
    key = new_signing_key("inventory-gateway-test")
    return key.private_pem, key.certificate_pem


def publish(gateway, *outcomes):
    return service_client(gateway).post("/salesforce/v1/availability", json={"outcomes": list(outcomes or [outcome()])})


def test_client_credentials_over_http_then_the_token_is_reused(settings, process_app, simulator, store):
    with serving(simulator) as url:
        gateway = create_app(
            dataclasses.replace(settings, salesforce_base_url=url),
            process_app=process_app,
            redis=store,
            client_options=FAST,
        )
        assert publish(gateway).status_code == 200
        assert publish(gateway, outcome(ms=1)).status_code == 200
    assert gateway.extensions["salesforce"].salesforce.tokens.fetches == 1
    assert "MAT-1|S1|web" in records(simulator)


@pytest.mark.parametrize("as_files", [False, True], ids=["inline", "at-path"])
def test_jwt_bearer_assertion_is_accepted_by_the_org(settings, process_app, store, key_pair, tmp_path, as_files):
    private_pem, certificate_pem = key_pair
    if as_files:  # SALESFORCE_JWT_PRIVATE_KEY and SF_SIM_JWT_CERTIFICATE as @path, both read by text_or_file
        (tmp_path / "key.pem").write_text(private_pem)
        (tmp_path / "cert.pem").write_text(certificate_pem)
        private_pem, certificate_pem = f"@{tmp_path / 'key.pem'}", f"@{tmp_path / 'cert.pem'}"
    settings = dataclasses.replace(
        settings,
        salesforce_auth_flow="jwt_bearer",
        salesforce_jwt_private_key=private_pem,
        salesforce_jwt_subject=SUBJECT,
        sf_sim_jwt_certificate=certificate_pem,
    )
    simulator = create_simulator(settings)
    gateway = create_app(settings, process_app=process_app, salesforce_app=simulator, redis=store, client_options=FAST)
    assert publish(gateway).status_code == 200
    assert "MAT-1|S1|web" in records(simulator)


def test_jwt_bearer_assertion_claims(key_pair):
    private_pem, certificate_pem = key_pair
    flow = JwtBearer(CLIENT_ID, private_pem, SUBJECT, clock=lambda: 1_800_000_000)
    public_key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
    claims = jwt.decode(
        flow.assertion("https://login.salesforce.com"),
        public_key,
        algorithms=["RS256"],
        audience="https://login.salesforce.com",
        options={"verify_exp": False},
    )
    assert claims == {
        "iss": CLIENT_ID,
        "sub": SUBJECT,
        "aud": "https://login.salesforce.com",
        "exp": 1_800_000_000 + 180,
    }


def test_wrong_client_secret_is_a_502_problem_naming_salesforces_error(settings, process_app, simulator, store):
    gateway = create_app(
        dataclasses.replace(settings, salesforce_client_secret="wrong"),
        process_app=process_app,
        salesforce_app=simulator,
        redis=store,
        client_options=FAST,
    )
    answer = publish(gateway)
    assert answer.status_code == 502 and answer.content_type == "application/problem+json"
    assert answer.get_json()["salesforce_error"] == "invalid_client"


def test_expired_session_is_refreshed_once_and_the_call_repeated(gateway, simulator):
    assert publish(gateway).status_code == 200
    admin(simulator, "POST", "tokens/expire")
    answer = publish(gateway, outcome(ats=1, ms=5))
    assert answer.status_code == 200 and answer.get_json()["salesforce_calls"] == 2  # the 401, then the repeat
    assert gateway.extensions["salesforce"].salesforce.tokens.fetches == 2
    assert records(simulator)["MAT-1|S1|web"]["Available_To_Sell__c"] == 1


def test_concurrent_calls_after_expiry_share_one_new_token(gateway, simulator):
    assert publish(gateway).status_code == 200
    admin(simulator, "POST", "tokens/expire")
    statuses, start = [], threading.Barrier(6)

    def publish_one(n: int) -> None:
        start.wait()
        statuses.append(publish(gateway, outcome(f"MAT-{n}")).status_code)

    threads = [threading.Thread(target=publish_one, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * 6
    assert gateway.extensions["salesforce"].salesforce.tokens.fetches == 2


def test_token_cache_fetches_one_at_a_time():
    calls, inside, overlap = [], [0], []
    lock = threading.Lock()

    def fetch():
        with lock:
            inside[0] += 1
            overlap.append(inside[0])
        calls.append(1)
        with lock:
            inside[0] -= 1
        return type("Token", (), {"value": f"t{len(calls)}"})()

    cache, start = TokenCache(fetch), threading.Barrier(8)

    def take():
        start.wait()
        cache.current()

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(calls) == 1 and max(overlap) == 1
    first = cache.current()
    assert cache.refresh(first).value == "t2" and cache.refresh(first).value == "t2"  # a stale rejection is a no-op
