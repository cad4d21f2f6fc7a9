"""GET /inventory/v1/availability: what a channel may sell, per position and per group."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..schemas import AvailabilityQuerySchema, AvailabilitySchema
from ..service.availability import query
from . import inventory

blp = Blueprint("availability", __name__, url_prefix="/inventory/v1/availability", description="Availability")


@blp.route("")
class Availability(MethodView):
    @blp.arguments(AvailabilityQuerySchema, location="query")
    @blp.response(200, AvailabilitySchema)
    def get(self, args):
        """Availability of up to 100 SKUs at up to 100 locations, or across a location group

        With neither location nor location_group, every location holding the SKU is listed.
        """
        return query(inventory(), skus=args["sku"], locations=args["location"],
                     location_group=args["location_group"], channel=args["channel"])
