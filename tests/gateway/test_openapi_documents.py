"""The committed OpenAPI documents are what the code generates (`make openapi` refreshes them)."""

import json
from pathlib import Path

import pytest

from gateway.cli import OPENAPI_DOCUMENTS, main

COMMITTED = Path(__file__).parents[2] / "openapi"
DOCUMENTS = sorted(OPENAPI_DOCUMENTS)


def test_every_api_has_a_committed_document():
    assert set(DOCUMENTS) == {
        "inventory-process.json",
        "sap-system.json",
        "salesforce-system.json",
        "web-experience.json",
        "store-experience.json",
        "call-centre-experience.json",
    }
    assert {path.name for path in COMMITTED.glob("*.json")} == set(DOCUMENTS)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("openapi")
    assert main(["openapi", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("name", DOCUMENTS)
def test_committed_openapi_document_matches_the_code(generated, name):
    document = json.loads((generated / name).read_text())
    assert document == json.loads((COMMITTED / name).read_text()), f"openapi/{name} is stale: run `make openapi`"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_operation_has_a_summary_and_problem_errors(name):
    document = json.loads((COMMITTED / name).read_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            errors = [
                status for status in operation["responses"] if status.startswith(("4", "5")) or status == "default"
            ]
            assert errors, f"{method.upper()} {path} documents no error response"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_request_body_comes_with_an_example(name):
    document = json.loads((COMMITTED / name).read_text())
    missing = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method != "parameters"
        for content in operation.get("requestBody", {}).get("content", {}).values()
        if "example" not in content and "examples" not in content
    ]
    assert missing == []
