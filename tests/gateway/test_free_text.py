"""Every string any API reads from a client (bodies and query parameters, every tier) refuses control
characters and lone surrogates and has a bounded length: found by walking the schemas of every operation,
so a field added later without the check fails here."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator

import pytest
from marshmallow import Schema, ValidationError, fields

from gateway.cli import OPENAPI_DOCUMENTS
from gateway.settings import Settings
from shared.redis import create_redis

#: CR, LF, NUL, TAB, DEL, a C1 control (NEL) and a lone surrogate (what the JSON escape "\ud800" decodes to).
UNCLEAN = ["x\n", "x\r", "x\u0000", "x\t", "x\u007f", "x\u0085", "\ud800"]
#: Longer than any free text an API takes (a foreign dead letter's detail: 2,000).
TOO_LONG = "a" * 2001


def _strings(field: fields.Field, path: str) -> Iterator[tuple[str, fields.String]]:
    if isinstance(field, fields.String):
        yield path, field
    elif isinstance(field, fields.List):
        yield from _strings(field.inner, f"{path}[]")
    elif isinstance(field, fields.Dict):
        if field.key_field is not None:
            yield from _strings(field.key_field, f"{path}{{key}}")
        if field.value_field is not None:
            yield from _strings(field.value_field, f"{path}{{value}}")
    elif isinstance(field, fields.Nested):
        yield from _schema_strings(field.schema, f"{path}.")


def _schema_strings(schema: Schema, prefix: str = "") -> Iterator[tuple[str, fields.String]]:
    for name, field in schema.fields.items():
        if not field.dump_only:
            yield from _strings(field, f"{prefix}{field.data_key or name}")


def _argument_strings() -> Iterator[tuple[str, str, fields.String]]:
    """(api, where, field) for every string field of every operation's arguments, of every API."""
    settings = dataclasses.replace(
        Settings(),
        sap_base_url="http://sap.invalid/sap/opu/odata/sap",
        salesforce_base_url="https://salesforce.invalid",
        process_api_url="http://inventory-process.invalid",
    )
    redis = create_redis(dataclasses.replace(settings, redis_url=None))
    for document, module in sorted(OPENAPI_DOCUMENTS.items()):
        app = importlib.import_module(module).create_app(settings, redis=redis)
        api = document.removesuffix(".json")
        for blueprint in app.blueprints.values():
            for endpoint, methods in getattr(blueprint, "_docs", {}).items():
                for method, doc in methods.items():
                    if not isinstance(doc, dict):
                        continue
                    for argument in doc.get("arguments", {}).get("parameters", []):
                        schema = argument["schema"]
                        if isinstance(schema, dict):
                            schema = Schema.from_dict(schema)
                        schema = schema() if isinstance(schema, type) else schema
                        operation = f"{method.upper()} {blueprint.name}.{endpoint} {argument['in']}"
                        for path, field in _schema_strings(schema):
                            yield api, f"{operation}:{path}", field


FIELDS = list(_argument_strings())


def test_the_walk_reaches_every_api_and_the_free_text_fields():
    apis = {api for api, _, _ in FIELDS}
    assert apis == {name.removesuffix(".json") for name in OPENAPI_DOCUMENTS}
    where = " ".join(place for _, place, _ in FIELDS)
    for name in ("json:note", "json:created_by", "json:external_ref", "json:agent_id", "json:name", "json:reason"):
        assert name in where


@pytest.mark.parametrize(("api", "where", "field"), FIELDS, ids=[f"{api} {where}" for api, where, _ in FIELDS])
def test_every_string_a_client_sends_refuses_control_characters_and_surrogates_and_is_bounded(api, where, field):
    accepted = []
    for value in [*UNCLEAN, TOO_LONG]:
        try:
            field.deserialize(value)
        except ValidationError:
            continue
        accepted.append(value if value is not TOO_LONG else f"{len(TOO_LONG)} characters")
    assert not accepted, f"{api} {where} accepts {accepted!r}"
