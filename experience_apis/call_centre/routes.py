"""HTTP entrypoints of the call-centre experience API: thin flask-smorest views under /call-centre/v1.
Every view needs the `call-centre` scope."""

from __future__ import annotations

from flask.views import MethodView

from experience_apis.app import inventory
from experience_apis.fields import check_path_ids, current_settings, reservation_ttl
from shared.auth import current_credential, requires
from shared.idempotency import KEY_HEADER, MAX_KEY_LENGTH, REPLAYED_HEADER, presented_key
from shared.json_bodies import Blueprint

from . import service
from .schemas import (
    AvailabilityQuerySchema,
    ExtendRequestSchema,
    LookupQuerySchema,
    NetworkAvailabilitySchema,
    ReleaseRequestSchema,
    ReservationPageSchema,
    ReservationRequestSchema,
    ReservationSchema,
)

PREFIX = "/call-centre/v1"
blp = Blueprint(
    "call_centre",
    __name__,
    url_prefix=PREFIX,
    description="Network-wide availability with ETAs, and holds for a customer or an order",
)


def _key_parameter(required: bool) -> dict:
    return {
        "in": "header",
        "name": KEY_HEADER,
        "required": required,
        "description": "Unique per intended operation; a retry with the same key and body answers as the first "
        "time (409 while it is still running, 422 if the body differs)"
        + ("" if required else ". Recommended: without it a repeated partial release releases again."),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    }


def client_id() -> str:
    credential = current_credential()
    assert credential is not None  # every view of this API requires one
    return credential.client_id


def answers_a_change(view):
    """The answers of every change to one reservation (release, extend): the reservation as it is now,
    or why not; its Idempotency-Key is optional (recommended)."""
    for document in (
        blp.alt_response(
            409, response="CONFLICT", description="The reservation is not active, or this key is in flight"
        ),
        blp.alt_response(404, response="NOT_FOUND", description="No call-centre reservation with this id"),
        blp.alt_response(400, response="BAD_REQUEST", description="Malformed Idempotency-Key"),
        blp.response(200, ReservationSchema),
        blp.doc(parameters=[_key_parameter(required=False)]),
    ):  # innermost first, as they would stand above the view from the bottom up
        view = document(view)
    return view


@blp.route("/availability")
class Availability(MethodView):
    @requires("call-centre")
    @blp.arguments(AvailabilityQuerySchema(), location="query", unknown="raise")
    @blp.response(200, NetworkAvailabilitySchema)
    def get(self, query):
        """Availability of 1–20 SKUs at every location serving the call centre, with ETAs and totals"""
        return service.availability(inventory(), skus=query["sku"])


@blp.route("/reservations")
class Reservations(MethodView):
    @requires("call-centre")
    @blp.arguments(LookupQuerySchema(), location="query", unknown="raise")
    @blp.response(200, ReservationPageSchema)
    def get(self, query):
        """Look up the call centre's reservations by customer or order reference, newest first"""
        return service.look_up(
            inventory(),
            external_ref=query["external_ref"],
            status=query["status"],
            after=query["after"],
            limit=query["limit"],
        )

    @requires("call-centre")
    @blp.arguments(
        ReservationRequestSchema,
        example={
            "agent_id": "agent-17",
            "external_ref": "CASE-4711",
            "note": "customer collects on Saturday",
            "lines": [
                {"sku": "MAT-1001", "location": "S001", "quantity": 2},
                {"sku": "MAT-1002", "location": "DC01", "quantity": 1},
            ],
        },
    )
    @blp.doc(parameters=[_key_parameter(required=True)])
    @blp.response(201, ReservationSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(400, response="BAD_REQUEST", description="Missing or malformed Idempotency-Key")
    @blp.alt_response(404, response="NOT_FOUND", description="Unknown location or location group")
    @blp.alt_response(
        409,
        response="CONFLICT",
        description="Not enough stock: the problem lists per-line "
        "`shortfalls` (nothing is held); or this key is in flight",
    )
    @blp.alt_response(
        422,
        response="UNPROCESSABLE_ENTITY",
        description="Invalid request, above a limit, a place not serving the call centre, or a reused key",
    )
    def post(self, request):
        """Hold stock for a customer or an order, all lines or none, recording the agent"""
        key = presented_key(required=True)
        reservation, replayed = service.reserve(
            inventory(),
            request=request,
            client_id=client_id(),
            idempotency_key=key,
            default_ttl_seconds=reservation_ttl(current_settings(), "order_reservation_ttl_seconds"),
        )
        headers = {"Location": f"{PREFIX}/reservations/{reservation['id']}"}
        if replayed:
            headers[REPLAYED_HEADER] = "true"
        return reservation, 201, headers


@blp.route("/reservations/<reservation_id>")
class Reservation(MethodView):
    @requires("call-centre")
    @blp.response(200, ReservationSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="No call-centre reservation with this id")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="Invalid reservation id")
    def get(self, reservation_id):
        """Read one of the call centre's reservations"""
        check_path_ids(reservation_id=reservation_id)
        return service.get(inventory(), reservation_id=reservation_id)


@blp.route("/reservations/<reservation_id>/release")
class Release(MethodView):
    @requires("call-centre")
    @blp.arguments(ReleaseRequestSchema, example={"lines": [{"sku": "MAT-1001", "location": "S001", "quantity": 1}]})
    @answers_a_change
    def post(self, body, reservation_id):
        """Release every unit (no lines) or some units of some lines"""
        check_path_ids(reservation_id=reservation_id)
        return service.release(
            inventory(),
            reservation_id=reservation_id,
            lines=body["lines"],
            client_id=client_id(),
            idempotency_key=presented_key(required=False),
        )


@blp.route("/reservations/<reservation_id>/extend")
class Extend(MethodView):
    @requires("call-centre")
    @blp.arguments(ExtendRequestSchema, example={"ttl_seconds": 7200})
    @answers_a_change
    def post(self, body, reservation_id):
        """Make the reservation expire ttl_seconds from now"""
        check_path_ids(reservation_id=reservation_id)
        return service.extend(
            inventory(),
            reservation_id=reservation_id,
            ttl_seconds=body["ttl_seconds"],
            client_id=client_id(),
            idempotency_key=presented_key(required=False),
        )
