"""WSGI entry points gunicorn serves during the benchmark (`benchmarks.wsgi:inventory()`).

Both are app factories, called once per worker, so every worker has its own Redis pool.
"""

from __future__ import annotations

import flask


def inventory() -> flask.Flask:
    """The inventory process API exactly as `inventory-gateway serve` builds it (settings from
    the environment, expiry sweeper in each worker)."""
    from process_apis.inventory import sweeper
    from process_apis.inventory.app import create_app
    from shared.auth import requires

    app = create_app()
    sweeper.start_in_background(app.extensions["inventory"])

    # The read baseline inside the same app stack: the same credential check, correlation id, JSON
    # access log, metrics and error handling as every API route, with no work of its own.
    @app.get("/bench/ok")
    @requires("inventory:read")
    def ok():
        return {"ok": True}

    return app


def trivial() -> flask.Flask:
    """The baseline: a bare Flask app with one JSON route, no middleware."""
    app = flask.Flask(__name__)

    @app.get("/ok")
    def ok():
        return {"ok": True}

    return app
