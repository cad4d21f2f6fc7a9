"""create_app() for the web experience API (wiring shared with the other channels:
experience_apis/app.py), and the wiring of what its routes use (app.extensions["web"])."""

from __future__ import annotations

import flask

from experience_apis.app import INVENTORY, create_experience_app

from ..settings import ExperienceSettings
from . import postal_codes
from .client import WebInventory
from .routes import BLUEPRINTS, PREFIX
from .service import WebShop

__all__ = ["PREFIX", "create_app"]

TITLE = "Web experience API"
DESCRIPTION = (
    "The web shop's view of inventory: availability as bands and capped quantities, pickup stores near "
    "a postal code, cart holds and checkout. Carts belong to the web client that made them; stock "
    "figures never leave the gateway."
)


def create_app(settings: ExperienceSettings | None = None, *, process_app=None, redis=None) -> flask.Flask:
    settings = settings or ExperienceSettings.from_env()
    table = postal_codes.load(settings.web_postal_codes)  # a bad table fails here, at start-up
    app = create_experience_app(
        __name__,
        prefix=PREFIX,
        title=TITLE,
        description=DESCRIPTION,
        blueprints=BLUEPRINTS,
        settings=settings,
        process_app=process_app,
        redis=redis,
        client=WebInventory,
    )
    app.extensions["web"] = WebShop.create(settings, app.extensions[INVENTORY], table)
    return app
