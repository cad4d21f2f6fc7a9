"""Reservations: create (Idempotency-Key required), look up, read, re-key, release, extend, fulfil."""

from __future__ import annotations

import flask
import marshmallow
from flask.views import MethodView

from shared.auth import requires
from shared.idempotency import current_key, idempotent
from shared.json_bodies import Blueprint

from ..service import amendments
from ..service import reservation_queries as queries
from ..service import reservations as service
from . import inventory
from .reservations_schemas import (
    ExtendRequestSchema,
    ReleaseRequestSchema,
    ReservationPageSchema,
    ReservationPatchSchema,
    ReservationQuerySchema,
    ReservationRequestSchema,
    ReservationSchema,
)

blp = Blueprint("reservations", __name__, url_prefix="/inventory/v1/reservations", description="Reservations")


@blp.route("")
class Reservations(MethodView):
    @requires("inventory:read")
    # An unknown filter is refused rather than ignored: ignoring it would list more than was asked.
    @blp.arguments(ReservationQuerySchema(), location="query", unknown=marshmallow.RAISE)
    @blp.response(200, ReservationPageSchema)
    def get(self, args):
        """Look up reservations by external reference, or list the active ones at a location

        `external_ref`: every reservation with that reference, any status, newest first (the call
        centre's look-up). `location`: the active reservations holding stock there, newest first
        (a store's pickups). Both filter by `channel`, and page with `limit` and the `after` cursor.
        """
        page = dict(channel=args["channel"], after=args["after"], limit=args["limit"])
        if args["external_ref"] is not None:
            items, cursor = queries.by_external_ref(
                inventory(), external_ref=args["external_ref"], status=args["status"], **page
            )
        else:
            items, cursor = queries.at_location(inventory(), location=args["location"], **page)
        return {"items": items, "next": cursor}

    @requires("inventory:write")
    @blp.arguments(
        ReservationRequestSchema(),
        example={
            "channel": "call_centre",
            "external_ref": "CASE-42",
            "ttl_seconds": 900,
            "created_by": "agent-17",
            "lines": [
                {"sku": "MAT-1001", "location_group": "WEB-SHIP", "quantity": 2},
                {"sku": "MAT-1002", "location": "S001", "quantity": 1},
            ],
        },
    )
    @idempotent(required=True)
    @blp.response(201, ReservationSchema)
    @blp.alt_response(
        409,
        description="Not enough stock (`insufficient-stock`, per-line `shortfalls`); the cart or order "
        "(`external_ref`) would hold more than its channel's `max_hold_share` of a SKU there "
        "(`hold-share-exceeded`, per-line `limits`); or the request took longer than its deadline and "
        "was rolled back (`reservation-abandoned`, nothing held)",
    )
    def post(self, request):
        """Reserve stock for a channel (all-or-nothing unless allow_partial)"""
        reservation, shortfalls = service.create(
            inventory(), request, client=flask.g.get("client_id") or "anonymous", request_key=current_key()
        )
        # A hot write: the reservation is plain JSON data already, so it is serialised directly;
        # ReservationSchema documents the same shape (a test holds the two equal).
        response = flask.jsonify(plain({**reservation, "shortfalls": shortfalls}))
        response.status_code = 201
        response.headers["Location"] = f"/inventory/v1/reservations/{reservation['id']}"
        return response


def plain(reservation: dict) -> dict:
    """The reservation exactly as ReservationSchema dumps it (its internal fields left out)."""
    return {name: reservation[name] for name in _PUBLIC_FIELDS if name in reservation}


_PUBLIC_FIELDS = tuple(ReservationSchema().fields)


@blp.route("/<reservation_id>")
class Reservation(MethodView):
    @requires("inventory:read")
    @blp.response(200, ReservationSchema)
    def get(self, reservation_id):
        """Read a reservation"""
        return service.get(inventory(), reservation_id)

    @requires("inventory:write")
    @blp.arguments(ReservationPatchSchema(), example={"external_ref": "ORDER-1001", "ttl_seconds": 86400})
    @idempotent(required=False)
    @blp.response(200, ReservationSchema)
    @blp.alt_response(409, description="The reservation is not active")
    def patch(self, body, reservation_id):
        """Re-key an active reservation and/or set its expiry, in one step

        What a checkout does with a cart's holds: `external_ref` becomes the order id (SAP's goods
        issue naming it then consumes the held units) and `ttl_seconds` the order's longer hold.
        Sending the same body again changes nothing more (only the expiry counts from the new now).
        """
        return amendments.amend(
            inventory(), reservation_id, external_ref=body["external_ref"], ttl_seconds=body["ttl_seconds"]
        )


@blp.route("/<reservation_id>/release")
class Release(MethodView):
    @requires("inventory:write")
    @blp.arguments(ReleaseRequestSchema(), example={"lines": [{"sku": "MAT-1001", "location": "S001", "quantity": 1}]})
    @idempotent(required=False)
    @blp.response(200, ReservationSchema)
    def post(self, body, reservation_id):
        """Release all lines (empty body) or some units of some lines"""
        return service.release(inventory(), reservation_id, body.get("lines"))


@blp.route("/<reservation_id>/extend")
class Extend(MethodView):
    @requires("inventory:write")
    @blp.arguments(ExtendRequestSchema(), example={"ttl_seconds": 1800})
    @idempotent(required=False)
    @blp.response(200, ReservationSchema)
    def post(self, body, reservation_id):
        """Push the expiry out to ttl_seconds from now"""
        return amendments.extend(inventory(), reservation_id, body["ttl_seconds"])


@blp.route("/<reservation_id>/fulfil")
class Fulfil(MethodView):
    @requires("inventory:write")
    @idempotent(required=False)
    @blp.response(200, ReservationSchema)
    def post(self, reservation_id):
        """Mark fulfilled: units stay held until SAP's goods issue for it arrives"""
        return service.fulfil(inventory(), reservation_id)
