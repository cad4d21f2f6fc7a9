"""Request bodies as strict JSON (RFC 8259 numbers only; nesting deeper than the parser can follow is
refused) and never longer than MAX_BODY_BYTES however they are sent, query strings without a
single-valued parameter given twice, and the flask-smorest Blueprint every API declares its views on,
which reads requests this way.

Python's json module accepts NaN and Infinity (not JSON: stored, they make later answers invalid JSON),
raises RecursionError on deeply nested input and a plain ValueError on integers of more than 4,300
digits; webargs turns only JSONDecodeError into its 400, so each of those answered 500. `loads` raises
JSONDecodeError for all of them.
"""

from __future__ import annotations

import json
from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from shared.errors import Problem


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def loads(data: str | bytes) -> Any:
    """`data` parsed as strict JSON; JSONDecodeError (a ValueError) for anything else."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        return json.loads(text, parse_constant=_refuse)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None
    except ValueError as error:  # NaN/Infinity, an integer beyond Python's digit limit
        raise json.JSONDecodeError(str(error), text, 0) from None


class _StreamedBodyCap(LimitedStream):
    """A body without Content-Length (chunked) read up to the cap, and 413 if more follows: werkzeug's own
    cap stops reading there without a word, so an over-long JSON body was read cut short (a 400)."""

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return data


class BodyCappedRequest(flask.Request):
    """Flask's request refusing a body over MAX_CONTENT_LENGTH (MAX_BODY_BYTES) with 413 also when it is
    sent chunked, as it does when its Content-Length says so. The app's `request_class`."""

    @cached_property
    def stream(self) -> Any:
        limit = self.max_content_length
        streamed = self.content_length is None and self.environ.get("wsgi.input_terminated")
        if streamed and limit is not None and not self.shallow:
            return _StreamedBodyCap(self.environ["wsgi.input"], limit, is_max=True)
        return super().stream


class StrictJsonParser(FlaskParser):
    """webargs' Flask parser reading JSON bodies with `loads`, and refusing a query parameter given twice
    unless its field is a list (`?sku=A&sku=B`)."""

    def load_querystring(self, req: flask.Request, schema: ma.Schema) -> Any:
        arguments = self._makeproxy(req.args, schema)
        # webargs would read the first of the values and drop the others: the client meant one of
        # them, and which one it gets must not depend on the order its library sends them in.
        repeated = sorted(
            name for name, values in req.args.lists() if len(values) > 1 and name not in arguments.multiple_keys
        )
        if repeated:
            raise Problem(
                400,
                f"Give {', '.join(repeated)} once: {'it takes' if len(repeated) == 1 else 'each takes'} one value.",
                type_slug="query-parameter-repeated",
                errors={"query": {name: ["Given more than once; it takes one value."] for name in repeated}},
            )
        return arguments

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        try:
            return loads(req.get_data(cache=True))
        except UnicodeDecodeError as error:
            raise json.JSONDecodeError(f"Bytes decoding error : {error.reason}", "", error.start) from error


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, its arguments read with the strict parser."""

    ARGUMENTS_PARSER = StrictJsonParser()
