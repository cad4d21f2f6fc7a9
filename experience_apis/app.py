"""The wiring every experience API shares: an app taking channel credentials, and its client of the
inventory process API (`inventory()` while serving a request).

Split shape: INVENTORY_PROCESS_URL names the process API. All-in-one: the composition root (gateway/)
passes the in-process WSGI app (`process_app`). With neither the API does not start: it says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import flask
import flask_smorest

from process_apis.inventory.contract import InventoryClient, process_tier
from shared.app import create_api_app
from shared.auth import CHANNEL_KINDS
from shared.tier_client import TierClient

from .settings import ExperienceSettings

#: Where an experience app keeps its process-API client (app.extensions).
INVENTORY = "inventory_client"


def create_experience_app(
    import_name: str,
    *,
    prefix: str,
    title: str,
    description: str,
    blueprints: Iterable[flask_smorest.Blueprint],
    settings: ExperienceSettings | None = None,
    process_app=None,
    redis=None,
    client: Callable[[TierClient], InventoryClient] = InventoryClient,
) -> flask.Flask:
    """The app of one channel's API under `prefix` (its documents there too), for channel
    credentials, with `client` (a channel's InventoryClient) over the process API's tier client."""
    settings = settings or ExperienceSettings.from_env()
    app = create_api_app(
        import_name,
        title=title,
        version="v1",
        settings=settings,
        blueprints=blueprints,
        redis=redis,
        auth_kinds=CHANNEL_KINDS,
        docs_prefix=f"{prefix}/",
        description=description,
    )
    app.extensions[INVENTORY] = client(process_tier(settings, process_app))
    return app


def inventory() -> InventoryClient:
    """The process-API client of the app serving this request."""
    return flask.current_app.extensions[INVENTORY]
