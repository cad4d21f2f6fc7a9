"""The committed OpenAPI document is what the code generates (`make openapi` refreshes it)."""
import json
from pathlib import Path

from shared.cli import main

COMMITTED = Path(__file__).parents[2] / "openapi" / "inventory-process.json"


def test_committed_openapi_document_matches_the_code(tmp_path):
    assert main(["openapi", "--out", str(tmp_path)]) == 0
    generated = json.loads((tmp_path / "inventory-process.json").read_text())
    assert generated == json.loads(COMMITTED.read_text()), "openapi/ is stale: run `make openapi`"


def test_every_operation_has_a_summary_and_problem_errors():
    document = json.loads(COMMITTED.read_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            errors = [status for status in operation["responses"] if status.startswith(("4", "5")) or status == "default"]
            assert errors, f"{method.upper()} {path} documents no error response"
