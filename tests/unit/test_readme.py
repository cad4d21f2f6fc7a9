"""The README documents what the code does: every setting is in its configuration table."""
from pathlib import Path

from shared.config import describe

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_readme_configuration_table():
    table = README.split("### Configuration (environment variables)", 1)[1]
    missing = [env for env, _, _ in describe() if f"`{env}`" not in table]
    assert missing == []
