"""Locations and location groups: PUT to create or replace, GET to read."""

from __future__ import annotations

from flask.views import MethodView

from shared.auth import requires
from shared.errors import Problem
from shared.json_bodies import Blueprint

from ..domain.locations import Location, LocationGroup
from . import check_identifier, inventory
from .locations_schemas import LocationGroupSchema, LocationSchema

blp = Blueprint("locations", __name__, url_prefix="/inventory/v1", description="Locations and location groups")


@blp.route("/locations")
class Locations(MethodView):
    @requires("inventory:read")
    @blp.response(200, LocationSchema(many=True))
    def get(self):
        """List locations"""
        return sorted(inventory().catalogue.current().locations.values(), key=lambda loc: loc.id)


@blp.route("/locations/<location_id>")
class LocationResource(MethodView):
    @requires("inventory:read")
    @blp.response(200, LocationSchema)
    def get(self, location_id):
        """Read a location"""
        location = inventory().catalogue.current().locations.get(location_id)
        if location is None:
            raise Problem(404, f"no location {location_id}", type_slug="unknown-location")
        return location

    @requires("inventory:admin")
    @blp.arguments(
        LocationSchema(),
        example={
            "type": "store",
            "name": "Berlin Mitte",
            "region": "DE-BE",
            "postal_code": "10115",
            "latitude": 52.53,
            "longitude": 13.38,
            "channels": ["web", "store"],
            "fulfilment_methods": ["ship", "pickup"],
        },
    )
    @blp.response(200, LocationSchema)
    @blp.alt_response(201, schema=LocationSchema, description="Created")
    def put(self, data, location_id):
        """Create or replace a location"""
        check_identifier("location", location_id)
        location = Location(
            id=location_id,
            **{**data, "channels": tuple(data["channels"]), "fulfilment_methods": tuple(data["fulfilment_methods"])},
        )
        created = inventory().catalogue.put_location(location)
        return location, 201 if created else 200


@blp.route("/location-groups")
class LocationGroups(MethodView):
    @requires("inventory:read")
    @blp.response(200, LocationGroupSchema(many=True))
    def get(self):
        """List location groups"""
        return sorted(inventory().catalogue.current().groups.values(), key=lambda group: group.id)


@blp.route("/location-groups/<group_id>")
class LocationGroupResource(MethodView):
    @requires("inventory:read")
    @blp.response(200, LocationGroupSchema)
    def get(self, group_id):
        """Read a location group"""
        group = inventory().catalogue.current().groups.get(group_id)
        if group is None:
            raise Problem(404, f"no location group {group_id}", type_slug="unknown-location-group")
        return group

    @requires("inventory:admin")
    @blp.arguments(
        LocationGroupSchema(),
        example={
            "name": "Web shipping network",
            "members": ["DC01", "S001"],
            "channel": "web",
            "sourcing_strategy": "priority",
            "fulfilment_method": "ship",
        },
    )
    @blp.response(200, LocationGroupSchema)
    @blp.alt_response(201, schema=LocationGroupSchema, description="Created")
    def put(self, data, group_id):
        """Create or replace a location group (members in priority order)"""
        check_identifier("location group", group_id)
        known = inventory().catalogue.current().locations
        unknown = [member for member in data["members"] if member not in known]
        if unknown:
            raise Problem(
                422, f"unknown member location(s): {', '.join(unknown)}", errors={"json": {"members": unknown}}
            )
        group = LocationGroup(id=group_id, **{**data, "members": tuple(data["members"])})
        created = inventory().catalogue.put_group(group)
        return group, 201 if created else 200
