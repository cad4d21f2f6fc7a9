"""GET /inventory/v1/availability: what a channel may sell, per position and per group."""

from __future__ import annotations

import flask
from flask.views import MethodView

from shared.auth import requires
from shared.json_bodies import Blueprint

from ..service.availability import AvailabilityResult, query
from . import inventory
from .arguments import MemoizedQueryParser
from .availability_schemas import AvailabilityQuerySchema, AvailabilitySchema

blp = Blueprint("availability", __name__, url_prefix="/inventory/v1/availability", description="Availability")
blp.ARGUMENTS_PARSER = MemoizedQueryParser()  # the hottest read asks the same questions again and again


@blp.route("")
class Availability(MethodView):
    @requires("inventory:read")
    @blp.arguments(AvailabilityQuerySchema(), location="query")
    @blp.response(200, AvailabilitySchema)
    def get(self, args):
        """Availability of up to 100 SKUs at up to 100 locations, or across a location group

        With neither location nor location_group, every location holding the SKU is listed.
        """
        result = query(
            inventory(),
            skus=args["sku"],
            locations=args["location"],
            location_group=args["location_group"],
            channel=args["channel"],
            include_incoming="incoming" in args["include"],
        )
        # The hottest read of the gateway: the result is plain data already, so it is serialised
        # directly; AvailabilitySchema documents the same shape (a test holds the two equal).
        return flask.jsonify(plain(result))


def plain(result: AvailabilityResult) -> dict:
    """The availability result as JSON-ready data, exactly as AvailabilitySchema would dump it."""
    position = _with_incoming(result["incoming"]) if "incoming" in result else lambda p: dict(vars(p))
    return {
        "as_of": result["as_of"].isoformat(),
        "channel": result["channel"],
        "positions": [position(p) for p in result["positions"]],
        "groups": [
            {**vars(group), "locations": [position(member) for member in group.locations]} for group in result["groups"]
        ],
    }


def _with_incoming(incoming: dict):
    def position(p) -> dict:
        return {
            **vars(p),
            "incoming": [
                {**vars(item), "expected_at": item.expected_at.isoformat() if item.expected_at else None}
                for item in incoming[(p.sku, p.location)]
            ],
        }

    return position
