"""Every API's published OpenAPI document against a running gateway, with schemathesis: `serve
--demo` in a process of its own, each document fetched over HTTP, every operation called with
examples, boundary cases and generated data, as the demo client the API is for. No answer may be
a 5xx, and every answer must match the status codes, content type and schema the document promises."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from gateway import demo_data
from tests.support.processes import ROOT
from tests.support.sap_gateway import start_gateway

pytestmark = pytest.mark.e2e

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
#: Document -> the demo client whose key calls it.
DOCUMENTS = {
    "/web/v1/openapi.json": "demo-web-shop",
    "/store/v1/openapi.json": "demo-store-s001",
    "/call-centre/v1/openapi.json": "demo-call-centre",
    "/openapi.json": "demo-service",
    "/sap/v1/openapi.json": "demo-service",
    "/salesforce/v1/openapi.json": "demo-service",
}
#: Operations that verify their caller by a signature of their own, not an API key: the SAP webhook's
#: contract (HMAC or Basic, CloudEvents) is tested with signed pushes in tests/system_apis instead.
SIGNED = {"/sap/v1/openapi.json": ["--exclude-path", "/sap/v1/business-events"]}
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
EXAMPLES = 15
SEED = 20261127


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    # Generated calls come fast: budgets far above what the run makes, so that no 429 hides an answer.
    served = start_gateway(
        {
            "REDIS_URL": "",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_CHANNEL": "1000000/minute",
            "RATE_LIMIT_OPERATOR": "1000000/minute",
            "SAP_BASE_URL": "",
            "SALESFORCE_BASE_URL": "",
        },
        "--demo",
        logfile=tmp_path_factory.mktemp("contract") / "serve.log",
    )
    yield served
    served.stop()


@pytest.mark.slow
@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_every_operation_keeps_its_documented_contract(gateway, document, tmp_path):
    keys = dict(re.findall(r"^\s+(demo-[\w-]+)\s+(igw_\S+)", gateway.output(), re.MULTILINE))
    _restore_demo_network(gateway.base_url, keys["demo-operator"])
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            gateway.base_url + document,
            "--header",
            f"Authorization: Bearer {keys[DOCUMENTS[document]]}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            str(SEED),
            "--request-timeout",
            "30",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
            *SIGNED.get(document, []),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # its example database stays out of the tree
        env={**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": "tests.gateway.schemathesis_hooks"},
    )
    summary = run.stdout[-6000:]
    assert run.returncode == 0, summary
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert tested and int(tested.group(1)) > 0, summary
    assert re.search(r"(\d+) generated, \1 passed", run.stdout), summary
    assert "Authentication failed" not in run.stdout, summary  # the calls got past the credential check


def _restore_demo_network(base_url: str, operator_key: str) -> None:
    """The demo locations and groups as demo mode made them: a document run before (the process API's,
    with a key that may change the network) may have replaced them, and the store API then rightly
    refuses the demo store's key for a location that is no longer a store."""
    headers = {"Authorization": f"Bearer {operator_key}"}
    for location in demo_data.LOCATIONS:
        body = {name: value for name, value in dataclasses.asdict(location).items() if name != "id"}
        answer = requests.put(
            f"{base_url}/inventory/v1/locations/{location.id}", json=body, headers=headers, timeout=10
        )
        assert answer.status_code in (200, 201), answer.text
    for group in demo_data.GROUPS:
        body = {name: value for name, value in dataclasses.asdict(group).items() if name != "id"}
        answer = requests.put(
            f"{base_url}/inventory/v1/location-groups/{group.id}", json=body, headers=headers, timeout=10
        )
        assert answer.status_code in (200, 201), answer.text
