"""create_app() for the call-centre experience API (wiring shared with the other channels:
experience_apis/app.py)."""

from __future__ import annotations

from experience_apis.app import create_experience_app

from ..settings import ExperienceSettings
from .routes import PREFIX, blp

__all__ = ["PREFIX", "create_app"]

TITLE = "Call-centre experience API"
DESCRIPTION = (
    "For call-centre agents: availability across the whole network with the ETAs of incoming "
    "stock, and reservations held for a customer or an order (made, looked up by reference, "
    "released, extended). Agents see and act on call-centre reservations only."
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
