"""HTTP entrypoints of the web experience API: thin flask-smorest blueprints under /web/v1."""

from __future__ import annotations

import copy
import functools
import re

import flask
import marshmallow
from flask.views import MethodView

from shared.auth import current_credential, requires
from shared.errors import PROBLEM_CONTENT_TYPE, Problem, ProblemSchema
from shared.idempotency import idempotent, key_required, presented_key
from shared.json_bodies import Blueprint

from . import service
from .http_cache import conditional_json
from .schemas import (
    ID_PATTERN,
    AvailabilityQuerySchema,
    CheckoutRequestSchema,
    CheckoutSchema,
    HoldListSchema,
    HoldRequestSchema,
    HoldSchema,
    WebAvailabilitySchema,
)

PREFIX = "/web/v1"
SCOPE = "web"
_ID = re.compile(ID_PATTERN)

availability_blp = Blueprint(
    "web-availability",
    __name__,
    url_prefix=PREFIX,
    description="Availability for shoppers: bands, capped quantities, pickup stores nearby",
)
carts_blp = Blueprint(
    "web-carts",
    __name__,
    url_prefix=f"{PREFIX}/carts",
    description="Cart holds (short reservations) and checkout into an order's reservation",
)
BLUEPRINTS = (availability_blp, carts_blp)


def problem(status: int, description: str):
    """Document an error outcome of an operation, with its problem+json body."""
    return carts_blp.alt_response(
        status, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, description=description
    )


def shop() -> service.WebShop:
    """The wired web shop of the app serving this request (see app.py)."""
    return flask.current_app.extensions["web"]


def client_id() -> str:
    credential = current_credential()
    assert credential is not None  # every view of this API requires one
    return credential.client_id


def _answer(document):
    """200 with the availability document, or 304 (If-None-Match), cacheable for WEB_CACHE_MAX_AGE_SECONDS."""
    return conditional_json(document, max_age=shop().settings.web_cache_max_age_seconds)


def answered_from_cache(view):
    """A question asked again within WEB_AVAILABILITY_CACHE_SECONDS (the same query string) is answered
    from the document cache before its parameters are parsed a second time."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        document = service.cached_document(shop(), flask.request.query_string)
        if document is None:
            return view(*args, **kwargs)
        return _answer(document)

    return wrapper


def accepts_if_none_match(view):
    """Document the If-None-Match request header (among the operation's parameters, beside the query's)."""
    apidoc = view._apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
    apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(
        {
            "in": "header",
            "name": "If-None-Match",
            "required": False,
            "schema": {"type": "string"},
            "description": "the ETag of an answer already held: 304 with no body while it is still current",
        }
    )
    return view


@carts_blp.before_request
def _check_ids() -> None:
    """Cart, hold and order ids are bounded and plain before anything is looked up by them."""
    for name, value in (flask.request.view_args or {}).items():
        if not _ID.match(value):
            raise Problem(
                422,
                f"{name} must be 1 to 64 letters, digits, '_' or '-'.",
                errors={"path": {name: ["must match " + ID_PATTERN]}},
            )


@carts_blp.after_request
def _not_stored(response: flask.Response) -> flask.Response:
    # A cart is one shopper's: no cache keeps it.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@availability_blp.route("/availability")
class Availability(MethodView):
    @requires(SCOPE)
    # An unknown parameter is refused rather than ignored (a mistyped ?skus= would silently ask nothing).
    @answered_from_cache
    @availability_blp.arguments(AvailabilityQuerySchema(), location="query", unknown=marshmallow.RAISE)
    @accepts_if_none_match
    @availability_blp.response(
        200,
        WebAvailabilitySchema,
        headers={
            "ETag": {"description": "strong validator of the body", "schema": {"type": "string"}},
            "Cache-Control": {"description": "public, max-age=WEB_CACHE_MAX_AGE_SECONDS", "schema": {"type": "string"}},
        },
    )
    @availability_blp.alt_response(
        304,
        description="Not modified: If-None-Match names the current ETag (no body; "
        "the same ETag and Cache-Control headers)",
    )
    @availability_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args):
        """Availability of 1 to 50 SKUs for the web shop, and pickup stores near a postal code

        Per SKU: a band (in_stock, low_stock, backorder, out_of_stock) and a display quantity capped at
        WEB_DISPLAY_CAP ("10+") for shipping to home from the web network (WEB_NETWORK_GROUP); with
        `postal_code`, the web pickup stores within WEB_PICKUP_RADIUS_KM, nearest first, each with its
        band and capped quantity. Stock figures (on hand, reserved, safety stock) are never shown.
        """
        # The service builds exactly WebAvailabilitySchema's shape (tests/gateway/test_openapi_contract.py
        # checks every answer against the document), so it is not serialized through the schema again.
        document = service.availability_document(
            shop(), skus=args["sku"], postal_code=args["postal_code"], question=flask.request.query_string
        )
        return _answer(document)


HOLD_EXAMPLE = {"lines": [{"sku": "MAT-1001", "quantity": 2}, {"sku": "MAT-1002", "quantity": 1}], "fulfilment": "ship"}


@carts_blp.route("/<cart_id>/holds")
class Holds(MethodView):
    @requires(SCOPE)
    @carts_blp.response(200, HoldListSchema)
    def get(self, cart_id):
        """List the cart's active holds"""
        return {"items": service.cart_holds(shop(), client_id=client_id(), cart_id=cart_id)}

    @requires(SCOPE)
    @key_required
    @carts_blp.arguments(
        HoldRequestSchema,
        examples={
            "ship": {"summary": "ship to home", "value": HOLD_EXAMPLE},
            "pickup": {
                "summary": "collect in store",
                "value": {"lines": [{"sku": "MAT-1001", "quantity": 1}], "fulfilment": "pickup", "store": "S001"},
            },
        },
    )
    @idempotent()
    @carts_blp.response(201, HoldSchema)
    @problem(
        409,
        "Not enough stock for every line (`shortfalls`, with capped quantities), the cart would "
        "hold more than its share of a product (`hold-share-exceeded`: per line what it `may_add`), "
        "or the cart holds MAX_HOLDS_PER_CART already",
    )
    @problem(
        422,
        "Invalid body, over a limit (MAX_UNITS_PER_LINE, MAX_LINES_PER_RESERVATION, a SKU twice), "
        "or not a web pickup store",
    )
    def post(self, request, cart_id):
        """Hold stock for the cart, all lines or none, for WEB_HOLD_TTL_SECONDS

        `fulfilment: ship` holds from the web shipping network, `pickup` at `store`. A retry with the
        same Idempotency-Key and body answers as the first time, holding nothing more.
        """
        hold = service.create_hold(
            shop(),
            client_id=client_id(),
            cart_id=cart_id,
            request=request,
            idempotency_key=presented_key(required=True),
        )
        return hold, 201, {"Location": f"{PREFIX}/carts/{cart_id}/holds/{hold['id']}"}


@carts_blp.route("/<cart_id>/holds/<hold_id>")
class Hold(MethodView):
    @requires(SCOPE)
    @carts_blp.response(200, HoldSchema)
    @problem(404, "No such hold in this client's cart")
    def get(self, cart_id, hold_id):
        """Read one hold of the cart (active, released or expired)"""
        hold = service.cart_hold(shop(), client_id=client_id(), cart_id=cart_id, hold_id=hold_id)
        return service.hold_view(hold, cart_id)

    @requires(SCOPE)
    @carts_blp.response(204)
    @problem(404, "No such hold in this client's cart")
    def delete(self, cart_id, hold_id):
        """Release a hold of the cart (releasing an ended hold again changes nothing)"""
        service.release_hold(shop(), client_id=client_id(), cart_id=cart_id, hold_id=hold_id)


@carts_blp.route("/<cart_id>/checkout")
class Checkout(MethodView):
    @requires(SCOPE)
    @key_required
    @carts_blp.arguments(CheckoutRequestSchema, example={"order_id": "WEB-2026-000123"})
    @idempotent()
    @carts_blp.response(201, CheckoutSchema)
    @problem(409, "The cart has no active holds (and the order none yet)")
    def post(self, request, cart_id):
        """Turn the cart's active holds into the order's reservation, in one idempotent step

        Every active hold is re-keyed to the order and given ORDER_RESERVATION_TTL_SECONDS. A repeat
        with the same Idempotency-Key and body gives the same answer; the same key with another body
        is refused (422). After a failure half-way, a retry completes the move.
        """
        return service.checkout(shop(), client_id=client_id(), cart_id=cart_id, order_id=request["order_id"]), 201
