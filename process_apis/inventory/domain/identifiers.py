"""What a SKU, location or location-group id may be: part of the process API's published contract."""

from __future__ import annotations

import re

#: Characters a SKU or location id may use: no braces (they would break a Redis key's hash tag) and no
#: "|" (it separates the parts of an availability key).
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
#: The same rule in words, for error messages.
IDENTIFIER_RULE = "1-64 letters, digits and . _ : / -, starting with a letter or digit"


def is_identifier(value: str) -> bool:
    """The whole value follows the rule (`IDENTIFIER.match` would also take a trailing newline)."""
    return IDENTIFIER.fullmatch(value) is not None
