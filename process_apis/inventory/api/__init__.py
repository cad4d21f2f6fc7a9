"""HTTP entrypoints of the inventory process API: thin flask-smorest blueprints."""
from __future__ import annotations

import flask


def inventory():
    """The wired stores of the app serving this request (see bootstrap.py)."""
    return flask.current_app.extensions["inventory"]
