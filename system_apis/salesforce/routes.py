"""HTTP entrypoints of the Salesforce system API: thin flask-smorest blueprints under /salesforce/v1."""

from __future__ import annotations

import flask
from flask.views import MethodView

from shared.auth import requires
from shared.idempotency import idempotent
from shared.json_bodies import Blueprint

from . import service
from .availability import read_availability
from .schemas import (
    OciActionOutputSchema,
    OciAvailabilityRequestSchema,
    OciAvailabilitySchema,
    OciCreateReservationSchema,
    OciFulfillmentRequestSchema,
    OciReleaseRequestSchema,
    OciReservationResultSchema,
    OciTransferRequestSchema,
    OutcomeBatchSchema,
    PublishResultSchema,
)

PREFIX = "/salesforce/v1"
blp = Blueprint(
    "salesforce",
    __name__,
    url_prefix=PREFIX,
    description="Salesforce: availability outcomes out, Omnichannel Inventory requests in",
)


def salesforce() -> service.SalesforceSystem:
    """The wired Salesforce system of the app serving this request (see app.py)."""
    return flask.current_app.extensions["salesforce"]


@blp.route("/availability")
class Availability(MethodView):
    @requires("salesforce:publish")
    @blp.arguments(
        OutcomeBatchSchema,
        example={
            "fence": 42,
            "outcomes": [
                {
                    "sku": "MAT-1001",
                    "location": "S001",
                    "location_group": None,
                    "channel": "web",
                    "available_to_sell": 7,
                    "available_to_order": 9,
                    "status": "in_stock",
                    "as_of": "2026-11-26T10:15:00.120Z",
                    "occurred_at": "2026-11-26T10:14:59.870Z",
                }
            ],
        },
    )
    @idempotent(required=False)
    @blp.response(200, PublishResultSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, body):
        """Write availability outcomes to Salesforce (the publisher's call)

        The newest outcome per SKU × location (or group) × channel is upserted (or published as a
        Platform Event, per SALESFORCE_OUTBOUND), 200 records per request. 200 once every outcome is
        written or, refused by Salesforce, dead-lettered with its reason; 503 with Retry-After when
        Salesforce cannot be reached, so the publisher keeps the batch. `slow_down` says the org's
        API usage is above SALESFORCE_LIMIT_SHARE. `fence` is the publisher lease's fencing token: a
        batch under a lower one than seen before answers 409 `stale-fence` and writes nothing, so a
        publisher that lost its lease (a pause, a slow call) never overwrites its successor.
        """
        return service.publish_availability(salesforce(), body["outcomes"], fence=body["fence"])


@blp.route("/oci/availability")
class OciAvailability(MethodView):
    @requires("salesforce:oci")
    @blp.arguments(
        OciAvailabilityRequestSchema,
        example={"stockKeepingUnits": ["MAT-1001"], "locationIdentifiers": ["S001", "DC01"]},
    )
    @blp.response(200, OciAvailabilitySchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body):
        """Availability of up to 100 SKUs at up to 100 locations or location groups (OCI's shape)

        In-transit stock is one future with no expected date: the gateway knows what is on its way,
        not when it lands.
        """
        return read_availability(salesforce().inventory, body, salesforce().reservations.channel)


@blp.route("/oci/reservations")
class OciReservations(MethodView):
    @requires("salesforce:oci")
    @blp.arguments(
        OciCreateReservationSchema,
        example={
            "actionRequestId": "4b6f5a52-8a3e-4a4f-9d0e-0c9d7b8a1f01",
            "externalRefId": "ORDER-1001",
            "expirationSeconds": 900,
            "allowPartialReservations": False,
            "createRecords": [{"stockKeepingUnit": "MAT-1001", "locationGroupIdentifier": "WEB-SHIP", "quantity": 2}],
        },
    )
    @blp.response(200, OciReservationResultSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, body):
        """Reserve stock for Salesforce (one process-API reservation; repeats answer as the first time)"""
        return salesforce().reservations.create(body)


def _action_record(action_request_id: str, **extra) -> dict:
    """An example record of a release, fulfilment or transfer of the reservation made for order-1001."""
    return {
        "actionRequestId": action_request_id,
        "externalRefId": "order-1001",
        "stockKeepingUnit": "MAT-1001",
        "locationIdentifier": "S001",
        "quantity": 2,
        **extra,
    }


@blp.route("/oci/releases")
class OciReleases(MethodView):
    @requires("salesforce:oci")
    @blp.arguments(OciReleaseRequestSchema, example={"releaseRecords": [_action_record("release-1")]})
    @blp.response(200, OciActionOutputSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, body):
        """Release reserved units, per record (found by externalRefId)"""
        return salesforce().reservations.release(body["releaseRecords"])


@blp.route("/oci/fulfillments")
class OciFulfillments(MethodView):
    @requires("salesforce:oci")
    @blp.arguments(OciFulfillmentRequestSchema, example={"fulfillmentRecords": [_action_record("fulfil-1")]})
    @blp.response(200, OciActionOutputSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, body):
        """Fulfil reservations: the records of one reservation must cover all it holds"""
        return salesforce().reservations.fulfil(body["fulfillmentRecords"])


@blp.route("/oci/transfers")
class OciTransfers(MethodView):
    @requires("salesforce:oci")
    @blp.arguments(
        OciTransferRequestSchema,
        example={"transferRecords": [_action_record("transfer-1", toLocationIdentifier="S002")]},
    )
    @blp.response(200, OciActionOutputSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, body):
        """Move reserved units to another location or group (reserve there, then release here)"""
        return salesforce().reservations.transfer(body["transferRecords"])
