"""HTTP entrypoints of the inventory process API: thin flask-smorest blueprints."""

from __future__ import annotations

import flask

from shared.errors import Problem

from ..bootstrap import Inventory
from ..domain.identifiers import IDENTIFIER, is_identifier


def inventory() -> Inventory:
    """The wired stores of the app serving this request (see bootstrap.py)."""
    return flask.current_app.extensions["inventory"]


def check_identifier(kind: str, identifier: str) -> None:
    """A 422 problem unless an id from the path fits the identifier rule (domain/identifiers.py)."""
    if not is_identifier(identifier):
        raise Problem(422, f"{kind} id must match {IDENTIFIER.pattern}", errors={"path": {"id": ["invalid"]}})
