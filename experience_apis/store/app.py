"""create_app() for the store experience API (wiring shared with the other channels: experience_apis/app.py)."""

from __future__ import annotations

from experience_apis.app import create_experience_app

from ..settings import ExperienceSettings
from .routes import PREFIX, blp

__all__ = ["PREFIX", "create_app"]

TITLE = "Store experience API"
DESCRIPTION = (
    "For store associates: the store's own full stock position, what nearby stores could sell, "
    "customer returns and quality inspections, and the pickups to prepare. A store credential "
    "acts for its own store only."
)


def create_app(settings: ExperienceSettings | None = None, *, process_app=None, redis=None):
    return create_experience_app(
        __name__,
        prefix=PREFIX,
        title=TITLE,
        description=DESCRIPTION,
        blueprints=(blp,),
        settings=settings,
        process_app=process_app,
        redis=redis,
    )
