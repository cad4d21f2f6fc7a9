"""Request bodies are strict JSON: NaN and Infinity, deep nesting and integers past Python's digit limit are
each a JSONDecodeError (webargs' 400), never an exception that answers 500."""

from __future__ import annotations

import json

import pytest

from shared import json_bodies


@pytest.mark.parametrize(
    "text",
    ['{"q": NaN}', '{"q": Infinity}', "[-Infinity]", "[" * 100_000 + "]" * 100_000, '{"q": ' + "9" * 5000 + "}"],
)
def test_what_is_not_strict_json_is_a_decode_error(text):
    with pytest.raises(json.JSONDecodeError):
        json_bodies.loads(text)


def test_strict_json_is_read_as_json_reads_it():
    text = '{"events": [{"quantity": 2, "ratio": 0.5, "ref": "a\\u00e9", "none": null}]}'
    assert json_bodies.loads(text.encode()) == json.loads(text)
