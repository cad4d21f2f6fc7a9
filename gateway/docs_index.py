"""`/docs` of the all-in-one gateway: one Swagger UI with a drop-down of every API's document
(each API still serves its own at {prefix}/docs and {prefix}/openapi.json)."""

from __future__ import annotations

from collections.abc import Iterable

import flask

from shared import security_headers, swagger_ui

DOCS_PATH = "/docs"


def create_docs_app(documents: Iterable[tuple[str, str]]) -> flask.Flask:
    """A WSGI app answering GET /docs with a Swagger UI over `documents`: (API name, openapi.json URL)
    pairs, the first one shown first, and Swagger UI's assets under /docs/static/. Public, like every
    API's own documents."""
    app = flask.Flask(__name__)
    security_headers.init_app(app)
    app.register_blueprint(swagger_ui.docs_blueprint(DOCS_PATH, documents, title="Inventory Gateway APIs"))
    return app
