"""create_app() for the inventory process API."""

from __future__ import annotations

from shared.app import create_api_app
from shared.auth import TIER_KINDS

from .api import availability, dead_letters, events, locations, positions, reservations, rules
from .bootstrap import bootstrap
from .settings import InventorySettings

BLUEPRINTS = (
    events.blp,
    availability.blp,
    reservations.blp,
    rules.blp,
    locations.blp,
    dead_letters.blp,
    positions.blp,
)


def create_app(settings: InventorySettings | None = None, redis=None):
    settings = settings or InventorySettings.from_env()
    app = create_api_app(
        __name__,
        title="Inventory process API",
        version="v1",
        settings=settings,
        blueprints=BLUEPRINTS,
        redis=redis,
        auth_kinds=TIER_KINDS,
        description="Events → ledger → availability, reservations and rules. The source of truth "
        "for reservations and availability; SAP owns physical stock.",
    )
    app.extensions["inventory"] = bootstrap(settings, app.extensions["redis"])
    return app
