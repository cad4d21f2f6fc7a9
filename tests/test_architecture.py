"""The import rules of the tiers (the import-linter contracts in pyproject.toml) hold for the tree, and
they bite: the same contracts refuse a copy of the tree with one forbidden import added."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ("gateway", "shared", "process_apis", "system_apis", "experience_apis", "simulators")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_of_the_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_import_rule():
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def _add_import(module: Path, statement: str) -> None:
    module.write_text(module.read_text() + f"\n{statement}  # planted by tests/test_architecture.py\n")


def test_shared_importing_a_tier_breaks_a_rule(tmp_path):
    tree = _copy_of_the_tree(tmp_path)
    _add_import(tree / "shared" / "errors.py", "import process_apis.inventory.app")
    run = _lint(tree)
    assert run.returncode == 1 and "shared/ imports no tier" in run.stdout and "BROKEN" in run.stdout


def test_a_channel_reaching_into_the_process_apis_adapters_breaks_a_rule(tmp_path):
    tree = _copy_of_the_tree(tmp_path)
    _add_import(tree / "experience_apis" / "web" / "service.py", "from process_apis.inventory.adapters import keys")
    run = _lint(tree)
    assert run.returncode == 1 and "published contract only BROKEN" in run.stdout.replace("\n", " ")


def test_a_tier_importing_a_simulator_breaks_a_rule(tmp_path):
    tree = _copy_of_the_tree(tmp_path)
    _add_import(tree / "system_apis" / "sap" / "client.py", "import simulators.sap.app")
    run = _lint(tree)
    assert run.returncode == 1 and "Only the composition root imports the simulators" in run.stdout
