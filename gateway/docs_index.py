"""`/docs` of the all-in-one gateway: one Swagger UI with a drop-down of every API's document
(each API still serves its own at {prefix}/docs and {prefix}/openapi.json)."""

from __future__ import annotations

from collections.abc import Iterable

import flask

from shared.app import SWAGGER_UI_CDN

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Inventory Gateway APIs</title>
  <link rel="stylesheet" href="{{ cdn }}swagger-ui.css">
</head>
<body>
  <noscript>
    <h1>Inventory Gateway APIs</h1>
    <ul>{% for api in apis %}<li><a href="{{ api.url }}">{{ api.name }}</a></li>{% endfor %}</ul>
  </noscript>
  <div id="swagger-ui"></div>
  <script src="{{ cdn }}swagger-ui-bundle.js"></script>
  <script src="{{ cdn }}swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = function () {
      window.ui = SwaggerUIBundle({
        urls: {{ apis | tojson }},
        "urls.primaryName": {{ primary | tojson }},
        dom_id: "#swagger-ui",
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "StandaloneLayout",
        persistAuthorization: true
      });
    };
  </script>
</body>
</html>
"""


def create_docs_app(documents: Iterable[tuple[str, str]]) -> flask.Flask:
    """A WSGI app answering GET /docs with a Swagger UI over `documents`: (API name, openapi.json URL)
    pairs, the first one shown first. Public, like every API's own documents."""
    apis = [{"name": name, "url": url} for name, url in documents]
    app = flask.Flask(__name__)

    @app.get("/docs")
    def docs():
        return flask.render_template_string(_PAGE, apis=apis, primary=apis[0]["name"], cdn=SWAGGER_UI_CDN)

    return app
