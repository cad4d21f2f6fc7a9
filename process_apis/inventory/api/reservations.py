"""Reservations: create (Idempotency-Key required), read, release, extend, fulfil."""
from __future__ import annotations

import flask
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.idempotency import idempotent

from ..schemas import ExtendRequestSchema, ReleaseRequestSchema, ReservationRequestSchema, ReservationSchema
from ..service import reservations as service
from . import inventory

blp = Blueprint("reservations", __name__, url_prefix="/inventory/v1/reservations", description="Reservations")


@blp.route("")
class Reservations(MethodView):
    @blp.arguments(ReservationRequestSchema(), example={
        "channel": "web", "external_ref": "CART-42", "ttl_seconds": 900,
        "lines": [{"sku": "MAT-1001", "location_group": "WEB-SHIP", "quantity": 2},
                  {"sku": "MAT-1002", "location": "S001", "quantity": 1}],
    })
    @idempotent(required=True)
    @blp.response(201, ReservationSchema)
    @blp.alt_response(409, description="Not enough stock: the problem lists per-line `shortfalls`")
    def post(self, request):
        """Reserve stock for a channel (all-or-nothing unless allow_partial)"""
        reservation, shortfalls = service.create(inventory(), request)
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
    @blp.response(200, ReservationSchema)
    def get(self, reservation_id):
        """Read a reservation"""
        return service.get(inventory(), reservation_id)


@blp.route("/<reservation_id>/release")
class Release(MethodView):
    @blp.arguments(ReleaseRequestSchema(), example={"lines": [{"sku": "MAT-1001", "location": "S001", "quantity": 1}]})
    @idempotent(required=False)
    @blp.response(200, ReservationSchema)
    def post(self, body, reservation_id):
        """Release all lines (empty body) or some units of some lines"""
        return service.release(inventory(), reservation_id, body.get("lines"))


@blp.route("/<reservation_id>/extend")
class Extend(MethodView):
    @blp.arguments(ExtendRequestSchema(), example={"ttl_seconds": 1800})
    @idempotent(required=False)
    @blp.response(200, ReservationSchema)
    def post(self, body, reservation_id):
        """Push the expiry out to ttl_seconds from now"""
        return service.extend(inventory(), reservation_id, body["ttl_seconds"])


@blp.route("/<reservation_id>/fulfil")
class Fulfil(MethodView):
    @idempotent(required=False)
    @blp.response(200, ReservationSchema)
    def post(self, reservation_id):
        """Mark fulfilled: units stay held until SAP's goods issue for it arrives"""
        return service.fulfil(inventory(), reservation_id)
