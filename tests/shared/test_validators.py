"""Patterns are matched by the whole value, and kept text holds no control characters or lone surrogates."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from shared.validators import FullMatch, clean_text


def test_a_pattern_ending_in_dollar_does_not_take_a_trailing_newline():
    rule = FullMatch(r"^[A-Z]{3}-\d$")
    assert rule("MAT-1") == "MAT-1"
    for value in ("MAT-1\n", "MAT-12", " MAT-1", 7):
        with pytest.raises(ValidationError):
            rule(value)
    assert rule.regex.pattern == r"^[A-Z]{3}-\d$"  # what the OpenAPI document shows


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\x00b", "a\x1bb", "a\x85b", "a\ud800b", "\udfff"])
def test_text_with_control_characters_or_a_lone_surrogate_is_refused(value):
    with pytest.raises(ValidationError):
        clean_text(value)


def test_ordinary_text_is_kept():
    assert clean_text("Ünïcode ✓ order 12/3 — ok 😀") == "Ünïcode ✓ order 12/3 — ok 😀"
