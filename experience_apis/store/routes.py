"""HTTP entrypoints of the store experience API: thin flask-smorest views under /store/v1.

Every view needs the `store` scope and acts for the one store its credential is bound to
(`own_store` → `require_store`, first: another store's id is 403 whether that store exists or not).
"""

from __future__ import annotations

import functools

from flask.views import MethodView

from experience_apis.app import inventory
from experience_apis.fields import check_path_ids
from shared.auth import require_store, requires
from shared.json_bodies import Blueprint

from . import service
from .schemas import (
    InspectionSchema,
    NearbyQuerySchema,
    NearbySchema,
    PickupPageSchema,
    PickupQuerySchema,
    ReturnSchema,
    StockMovementSchema,
    StorePositionSchema,
)

PREFIX = "/store/v1"
blp = Blueprint(
    "store",
    __name__,
    url_prefix=f"{PREFIX}/stores/<store_id>",
    description="A store's own stock position, nearby stores, returns, inspections and pickups",
)


def own_store(view):
    """Object-level authorisation before anything else of the request is read (so another store's
    id is 403 even with a bad body or query), then the shape of the path's ids (422)."""

    @functools.wraps(view)
    def checked(*args, **path):
        require_store(path["store_id"])
        check_path_ids(**path)
        return view(*args, **path)

    return checked


@blp.route("/products/<sku>")
class Position(MethodView):
    @requires("store")
    @own_store
    @blp.response(200, StorePositionSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="Unknown store")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="Invalid store id or SKU")
    def get(self, store_id, sku):
        """The store's full position of a SKU: on hand, sellable, reserved, in inspection, blocked, incoming"""
        return service.position(inventory(), store_id=store_id, sku=sku)


@blp.route("/products/<sku>/nearby")
class Nearby(MethodView):
    @requires("store")
    @own_store
    @blp.arguments(NearbyQuerySchema(), location="query", unknown="raise")
    @blp.response(200, NearbySchema)
    @blp.alt_response(404, response="NOT_FOUND", description="Unknown store")
    def get(self, query, store_id, sku):
        """What the nearest other stores could sell of a SKU, nearest first

        Only each store's id, name, distance from this store and sellable quantity (channel store).
        Stores without coordinates come last. Like every operation here, it is for the credential's
        own store only: another store's list is refused (403).
        """
        return service.nearby(inventory(), store_id=store_id, sku=sku, limit=query["limit"])


@blp.route("/returns")
class Returns(MethodView):
    @requires("store")
    @own_store
    @blp.arguments(
        ReturnSchema, example={"return_id": "R-2026-000123", "sku": "MAT-1001", "quantity": 1, "reason": "defective"}
    )
    @blp.response(201, StockMovementSchema, description="Applied: the units are in quality inspection")
    @blp.alt_response(200, schema=StockMovementSchema, description="A repeat: this return id was counted before")
    @blp.alt_response(404, response="NOT_FOUND", description="Unknown store")
    def post(self, scan, store_id):
        """Book a scanned customer return into quality inspection (a repeat counts once)"""
        answer, applied = service.record_return(inventory(), store_id=store_id, scan=scan)
        return answer, 201 if applied else 200


@blp.route("/inspections")
class Inspections(MethodView):
    @requires("store")
    @own_store
    @blp.arguments(
        InspectionSchema,
        example={"inspection_id": "QI-2026-000045", "sku": "MAT-1001", "quantity": 1, "outcome": "pass"},
    )
    @blp.response(201, StockMovementSchema, description="Applied: pass → on hand (sellable), fail → blocked")
    @blp.alt_response(200, schema=StockMovementSchema, description="A repeat: this inspection id was counted before")
    @blp.alt_response(404, response="NOT_FOUND", description="Unknown store")
    def post(self, inspection, store_id):
        """Record a quality inspection's verdict on units in inspection (a repeat counts once)"""
        answer, applied = service.record_inspection(inventory(), store_id=store_id, inspection=inspection)
        return answer, 201 if applied else 200


@blp.route("/pickups")
class Pickups(MethodView):
    @requires("store")
    @own_store
    @blp.arguments(PickupQuerySchema(), location="query", unknown="raise")
    @blp.response(200, PickupPageSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="Unknown store")
    def get(self, query, store_id):
        """Active reservations to pick at this store, newest first, a page at a time"""
        return service.pickups(inventory(), store_id=store_id, after=query["after"], limit=query["limit"])
