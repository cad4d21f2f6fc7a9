"""Swagger UI pages (`{prefix}docs`), served with their assets from the pinned `swagger-ui-bundle` package
(`{prefix}docs/static/...`), never from a CDN: the gateway's documents work offline, and under the
Content-Security-Policy every answer carries (no inline script: the page's initializer is a file of ours).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import flask
from swagger_ui_bundle import swagger_ui_path

from shared.auth import public

#: Swagger UI's own files (the bundle, the standalone preset, the CSS), as the pinned package ships them.
ASSETS = Path(str(swagger_ui_path))
#: Our initializer: it reads the documents from the page's `data-urls` instead of an inline script.
INITIALIZER = Path(__file__).with_name("static") / "swagger-initializer.js"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }}</title>
  <link rel="stylesheet" href="{{ static }}swagger-ui.css">
</head>
<body>
  <noscript>
    <h1>{{ title }}</h1>
    <ul>{% for api in apis %}<li><a href="{{ api.url }}">{{ api.name }}</a></li>{% endfor %}</ul>
  </noscript>
  <div id="swagger-ui" data-urls="{{ apis | tojson | forceescape }}"></div>
  <script src="{{ static }}swagger-ui-bundle.js"></script>
  <script src="{{ static }}swagger-ui-standalone-preset.js"></script>
  <script src="{{ static }}{{ initializer }}"></script>
</body>
</html>
"""


def docs_blueprint(docs_path: str, documents: Iterable[tuple[str, str]], *, title: str) -> flask.Blueprint:
    """A blueprint answering GET `docs_path` (e.g. "/sap/v1/docs") with a Swagger UI over `documents`:
    (API name, openapi.json URL) pairs, the first shown first; and its assets under `docs_path`/static/.
    Public, like the documents themselves."""
    apis = [{"name": name, "url": url} for name, url in documents]
    static = f"{docs_path}/static/"
    blueprint = flask.Blueprint("swagger_ui", __name__)

    @blueprint.get(docs_path)
    @public
    def page() -> str:
        return flask.render_template_string(_PAGE, apis=apis, title=title, static=static, initializer=INITIALIZER.name)

    @blueprint.get(f"{static}<path:filename>")
    @public
    def asset(filename: str) -> flask.Response:
        if filename == INITIALIZER.name:
            return flask.send_from_directory(INITIALIZER.parent, filename)
        return flask.send_from_directory(ASSETS, filename)

    return blueprint
