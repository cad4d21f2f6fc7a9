"""marshmallow validators every API uses on what clients send: patterns matched by the whole value, and
text free of control characters and of surrogates that no UTF-8 text holds (`Text`, the field of every free
text a client sends)."""

from __future__ import annotations

import re
from typing import Any, cast

from marshmallow import ValidationError, fields, validate

#: Control characters (C0 with TAB, CR and LF, DEL, C1) and UTF-16 surrogates: a JSON escape like "\ud800"
#: decodes to a lone surrogate, which no UTF-8 text holds and Redis cannot store. Every text a client sends is
#: one line (a note, a name, a reference), so a line break or a TAB is refused too: it would split a log line,
#: a CSV export or a header built from the text.
UNCLEAN_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: UNCLEAN_TEXT as the OpenAPI documents state it (JSON Schema cannot name a lone surrogate).
CLEAN_TEXT_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"


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


def printable(text: str) -> str:
    """`text` with each control character and lone surrogate written as its escape (a newline as \\u000a), for
    text from another system (an error message, a vendor's field) passed on where only clean text is taken."""
    return UNCLEAN_TEXT.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def Text(max_length: int, *, min_length: int = 1, metadata: dict | None = None, **kwargs: Any) -> fields.String:  # noqa: N802
    """The field of a free text a client sends (a note, a name, a reference, a reason): `min_length` to
    `max_length` characters, without control characters or lone surrogates (422 naming the field)."""
    return fields.String(
        validate=[validate.Length(min_length, max_length), clean_text],
        metadata={"pattern": CLEAN_TEXT_PATTERN, **(metadata or {})},
        **kwargs,
    )
