"""marshmallow validators every API uses on what clients send: patterns matched by the whole value, and
text free of control characters and of surrogates that no UTF-8 text holds."""

from __future__ import annotations

import re
from typing import Any, cast

from marshmallow import ValidationError, validate

#: Control characters (CR and LF included) and UTF-16 surrogates: a JSON escape like "\ud800" decodes to a
#: lone surrogate, which no UTF-8 text holds and Redis cannot store.
UNCLEAN_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class FullMatch(validate.Regexp):
    """`validate.Regexp` matched by the whole value: a pattern ending in `$` also takes a trailing newline
    with `re.match`. The pattern (and so the OpenAPI document) stays as written."""

    def __call__(self, value: Any) -> Any:
        regex = cast("re.Pattern[str]", self.regex)  # made from a str pattern; typed for bytes too
        if not isinstance(value, str) or regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def is_clean_text(value: str) -> bool:
    return UNCLEAN_TEXT.search(value) is None


def clean_text(value: str) -> str:
    """Validator: text without control characters or unpaired surrogates."""
    if not is_clean_text(value):
        raise ValidationError("Must not contain control characters or unpaired surrogates.")
    return value
