"""HTTP entrypoints of the inventory process API: thin flask-smorest blueprints."""

from __future__ import annotations

import flask

from ..bootstrap import Inventory


def inventory() -> Inventory:
    """The wired stores of the app serving this request (see bootstrap.py)."""
    return flask.current_app.extensions["inventory"]
