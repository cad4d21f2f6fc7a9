"""The README documents what the code does: every setting is in its configuration table, and every
`inventory-gateway` command it shows parses."""

import re
import shlex
from pathlib import Path

from gateway.cli import build_parser
from gateway.settings import Settings

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_readme_configuration_table():
    table = README.split("### Configuration (environment variables)", 1)[1]
    missing = [env for env, _, _ in Settings.describe() if f"`{env}`" not in table]
    assert missing == []


def _commands() -> list[list[str]]:
    """Every `inventory-gateway …` command line in the README's shell blocks, as arguments."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            for match in re.finditer(r"\.venv/bin/inventory-gateway ([^|&#)]*)", line):
                found.append(shlex.split(match.group(1)))
    return found


def test_every_inventory_gateway_command_in_the_readme_parses():
    commands = _commands()
    assert len(commands) >= 10
    parser = build_parser()
    for arguments in commands:
        try:
            parser.parse_args(arguments)
        except SystemExit:
            raise AssertionError(f"README command does not parse: inventory-gateway {' '.join(arguments)}") from None
