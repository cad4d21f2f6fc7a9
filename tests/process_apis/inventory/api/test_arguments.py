"""MemoizedQueryParser: a query string is parsed once per schema; errors and other locations are not kept."""

from __future__ import annotations

import flask
import pytest
from marshmallow import Schema, fields, post_load
from werkzeug.exceptions import UnprocessableEntity

from process_apis.inventory.api.arguments import MemoizedQueryParser


class CountingQuery(Schema):
    sku = fields.List(fields.String(), required=True)
    limit = fields.Integer(load_default=10)
    loads = 0

    @post_load
    def count(self, data, **kwargs):
        type(self).loads += 1
        return data


@pytest.fixture
def app():
    CountingQuery.loads = 0
    return flask.Flask(__name__)


def parse(app, parser, schema, query: str, location: str = "query"):
    with app.test_request_context(f"/?{query}", json={"sku": ["from-body"]}):
        return parser.parse(schema, location=location)


def test_a_query_string_is_loaded_once_and_answered_alike_after(app):
    parser, schema = MemoizedQueryParser(), CountingQuery()

    first = parse(app, parser, schema, "sku=a&sku=b&limit=3")
    again = parse(app, parser, schema, "sku=a&sku=b&limit=3")
    other = parse(app, parser, schema, "sku=c")

    assert first == again == {"sku": ["a", "b"], "limit": 3}
    assert other == {"sku": ["c"], "limit": 10}
    assert CountingQuery.loads == 2


def test_changing_parsed_arguments_does_not_change_the_next_answer(app):
    parser, schema = MemoizedQueryParser(), CountingQuery()

    parse(app, parser, schema, "sku=a")["sku"].append("intruder")

    assert parse(app, parser, schema, "sku=a") == {"sku": ["a"], "limit": 10}


def test_an_invalid_query_string_is_rejected_every_time(app):
    parser, schema = MemoizedQueryParser(), CountingQuery()

    for _ in range(2):
        with pytest.raises(UnprocessableEntity):
            parse(app, parser, schema, "limit=many")


def test_other_locations_are_parsed_every_time(app):
    parser, schema = MemoizedQueryParser(), CountingQuery()

    parse(app, parser, schema, "", location="json")
    parse(app, parser, schema, "", location="json")

    assert CountingQuery.loads == 2


def test_the_oldest_query_strings_make_room(app):
    parser, schema = MemoizedQueryParser(max_entries=2), CountingQuery()

    for sku in ("a", "b", "c"):
        parse(app, parser, schema, f"sku={sku}")
    parse(app, parser, schema, "sku=a")  # forgotten, so loaded again

    assert CountingQuery.loads == 4
