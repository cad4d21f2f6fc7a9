"""The full scope matrix: every credential of the demo set against every operation of every API of
the composed gateway (real Redis). Expected outcomes come from this file's own table of who may call
what, checked against each operation's documented scopes (`x-scopes`): no credential → 401; a
credential of a kind the API does not accept, or without a scope the operation lists → 403; anything
else gets past authorisation (its answer is the operation's own: 200, 404, 422...)."""

from __future__ import annotations

import re

import pytest
from werkzeug.test import Client

from gateway.composition import create_gateway
from gateway.demo import DEMO_CLIENTS, create_demo_credentials, demo_settings
from gateway.settings import Settings

#: Which clients each API accepts, by kind: the process and system APIs serve other tiers, the
#: experience APIs serve channels.
TIER_KINDS = {"service", "system", "operator"}
API_KINDS = {
    "/inventory/v1": TIER_KINDS,
    "/sap/v1": TIER_KINDS,
    "/salesforce/v1": TIER_KINDS,
    "/web/v1": {"channel"},
    "/store/v1": {"channel"},
    "/call-centre/v1": {"channel"},
}
#: Path parameters filled in; the store is the demo store credential's own.
PATH_VALUES = {"store_id": "S001", "sku": "MAT-1001", "year": "2026", "number": "4900000001"}


@pytest.fixture(scope="module")
def matrix_gateway(redis_server):
    # a database of its own: the function-scoped `redis_url` fixture flushes database 0 between tests
    settings, _ = demo_settings(Settings(redis_url=redis_server.rsplit("/", 1)[0] + "/9", log_level="WARNING"))
    gateway = create_gateway(settings)
    gateway.process_app.extensions["redis"].flushdb()
    keys = create_demo_credentials(gateway.process_app.extensions["credentials"])
    yield gateway, keys
    gateway.close()


def operations(gateway) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(api prefix, METHOD, concrete path, documented scopes) of every operation that needs credentials."""
    apps = {
        "/inventory/v1": gateway.process_app,
        "/sap/v1": gateway.sap_api,
        "/salesforce/v1": gateway.salesforce_api,
        **gateway.experience_apis,
    }
    found = []
    for prefix, app in apps.items():
        with app.app_context():
            document = app.extensions["api"].spec.to_dict()
        for template, item in document["paths"].items():
            path = re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES.get(match.group(1), "X1"), template)
            for method, operation in item.items():
                if method != "parameters" and operation.get("x-scopes"):
                    found.append((prefix, method.upper(), path, tuple(operation["x-scopes"])))
    return found


def allowed(client_id: str, prefix: str, scopes: tuple[str, ...]) -> bool:
    kind, held, _, _ = DEMO_CLIENTS[client_id]
    if kind not in API_KINDS[prefix]:
        return False
    return bool(set(held) & set(scopes)) or (
        "service" in held and prefix in ("/inventory/v1", "/sap/v1", "/salesforce/v1")
    )


def test_every_api_is_in_the_matrix_and_every_operation_declares_scopes(matrix_gateway):
    gateway, _ = matrix_gateway
    found = operations(gateway)
    assert {prefix for prefix, *_ in found} == set(API_KINDS)
    assert len(found) >= 40


def test_without_credentials_every_operation_is_a_401_problem(matrix_gateway):
    gateway, _ = matrix_gateway
    client = Client(gateway)
    answers = {(method, path): client.open(path, method=method, json={}) for _, method, path, _ in operations(gateway)}
    wrong = {op: answer.status_code for op, answer in answers.items() if answer.status_code != 401}
    assert wrong == {}
    assert all(
        answer.headers["Content-Type"] == "application/problem+json"
        and answer.headers["WWW-Authenticate"].startswith("Bearer")
        for answer in answers.values()
    )


@pytest.mark.parametrize("client_id", sorted(DEMO_CLIENTS))
def test_each_credential_reaches_exactly_the_operations_its_kind_and_scopes_allow(matrix_gateway, client_id):
    gateway, keys = matrix_gateway
    client = Client(gateway)
    headers = {"Authorization": f"Bearer {keys[client_id]}"}
    wrong = []
    for prefix, method, path, scopes in operations(gateway):
        status = client.open(path, method=method, json={}, headers=headers).status_code
        expected_allowed = allowed(client_id, prefix, scopes)
        if expected_allowed == (status in (401, 403)):
            wrong.append(f"{method} {path}: {status}, {'allowed' if expected_allowed else 'refused'} expected")
    assert wrong == []
    assert any(allowed(client_id, prefix, scopes) for prefix, _, _, scopes in operations(gateway))


def test_a_store_credential_is_refused_for_every_operation_of_another_store(matrix_gateway):
    gateway, keys = matrix_gateway
    client = Client(gateway)
    headers = {"Authorization": f"Bearer {keys['demo-store-s001']}"}
    store_operations = [
        (method, path.replace("/stores/S001/", "/stores/S002/"))
        for prefix, method, path, _ in operations(gateway)
        if prefix == "/store/v1"
    ]
    answers = {
        (method, path): client.open(path, method=method, json={}, headers=headers) for method, path in store_operations
    }
    assert len(answers) >= 5
    assert {op: answer.status_code for op, answer in answers.items()} == dict.fromkeys(answers, 403)
    assert all(answer.get_json()["type"].endswith("/other-store") for answer in answers.values())
