"""HTTP entrypoints of the SAP system API: thin flask-smorest blueprints under /sap/v1."""

from __future__ import annotations

import flask
from flask.views import MethodView

from shared.auth import public, requires
from shared.errors import Problem
from shared.json_bodies import Blueprint

from . import service
from .schemas import (
    BusinessEventResultSchema,
    CloudEventSchema,
    DocumentResultSchema,
    StockQuerySchema,
    StockSchema,
    StockSyncRequestSchema,
    StockSyncResultSchema,
)
from .webhook import JSON, STRUCTURED, handshake_headers, parse_cloud_event, verify_sender

blp = Blueprint("sap", __name__, url_prefix="/sap/v1", description="SAP S/4HANA: business events, stock")


def sap() -> service.SapGateway:
    """The wired SAP system of the app serving this request (see app.py)."""
    return flask.current_app.extensions["sap"]


_EVENT_EXAMPLE = {
    "specversion": "1.0",
    "id": "6f1c7a9e-2b1d-4c1e-9a53-1f2d3c4b5a69",
    "source": "/default/sap.s4.beh/0000000000",
    "type": "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1",
    "time": "2026-11-26T10:15:00Z",
    "datacontenttype": "application/json",
    "data": {"MaterialDocumentYear": "2026", "MaterialDocument": "4900000123"},
}


@blp.route("/business-events")
class BusinessEvents(MethodView):
    @public
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                STRUCTURED: {"schema": CloudEventSchema, "example": _EVENT_EXAMPLE},
                JSON: {
                    "schema": {
                        "type": "object",
                        "description": "structured mode as SAP Event Mesh sends it: the whole CloudEvent (as "
                        f"with {STRUCTURED}); or, with ce-specversion, ce-id, ce-source, ce-type headers, binary "
                        "mode: the event's data",
                    },
                    "examples": {
                        "structured": {"value": _EVENT_EXAMPLE},
                        "binary": {"value": _EVENT_EXAMPLE["data"]},
                    },
                },
            },
        },
        parameters=[
            {
                "in": "header",
                "name": "X-Signature-Timestamp",
                "schema": {"type": "string"},
                "description": "hmac mode: Unix seconds when the push was signed",
            },
            {
                "in": "header",
                "name": "X-Signature",
                "schema": {"type": "string"},
                "description": 'hmac mode: "sha256=" + hex HMAC-SHA256(secret, "<timestamp>." + raw body)',
            },
            {
                "in": "header",
                "name": "Authorization",
                "schema": {"type": "string"},
                "description": "basic mode: Basic credentials of SAP_USER; oauth mode: Bearer <JWT of "
                "SAP_WEBHOOK_ISSUER for SAP_WEBHOOK_AUDIENCE>",
            },
        ],
    )
    @blp.response(200, BusinessEventResultSchema)
    @blp.alt_response(202, schema=BusinessEventResultSchema, description="Not a material document creation: ignored")
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self):
        """Receive an S/4HANA business event (CloudEvents webhook)

        Verifies the sender (HMAC signature, Basic auth or an OAuth 2.0 bearer token, per
        SAP_WEBHOOK_AUTH), reads the material document named by a `MaterialDocument.Created.v1` event
        over OData — for a `MaterialDocument.Canceled.v1` event, the reversal documents SAP posted for the
        document it names — and sends their items to the inventory process API as canonical events
        (unmappable items to its dead-letter queue). 200 only once every item is applied, a duplicate,
        stale or dead-lettered; 503 with Retry-After otherwise, so the broker redelivers (event ids make a
        redelivery, and a reversal reached by both of its events, count once). Other event types: 202,
        acknowledged, counted and ignored.
        """
        body = flask.request.get_data(cache=True)
        verify_sender(sap().settings, flask.request.headers, body, issuer_keys=sap().issuer_keys)
        event = parse_cloud_event(flask.request.headers, body)
        return service.receive_business_event(sap(), event)

    @public
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "WebHook-Request-Origin",
                "schema": {"type": "string", "example": "eventmesh.example.com"},
                "description": "the sending system (a DNS name); granted in WebHook-Allowed-Origin",
            },
            {"in": "header", "name": "WebHook-Request-Rate", "schema": {"type": "integer", "minimum": 1}},
        ],
    )
    @blp.response(
        200,
        description="Delivery granted: WebHook-Allowed-Origin (the origin asked for) and WebHook-Allowed-Rate "
        "(*); without WebHook-Request-Origin, a plain OPTIONS answer (Allow) granting nothing",
    )
    @blp.alt_response(400, response="BAD_REQUEST")
    def options(self):
        """CloudEvents webhook validation handshake (HTTP 1.1 Web Hooks for Event Delivery, section 4)

        A broker (SAP Event Mesh, Advanced Event Mesh) asks with OPTIONS and WebHook-Request-Origin whether
        this endpoint wants its pushes. It needs no credentials: the handshake only protects the sender
        from pushing where nobody listens, it reveals nothing, and the pushes themselves are verified.
        Permission is always given in the answer; a WebHook-Request-Callback URL is never called.
        """
        return "", 200, handshake_headers(flask.request.headers)


@blp.route("/material-documents/<year>/<number>/replay")
class MaterialDocumentReplay(MethodView):
    @requires("sap:admin")
    @blp.response(200, DocumentResultSchema)
    def post(self, year, number):
        """Read a material document again and send its items (e.g. after fixing SAP_LOCATION_MAP)

        Items already applied come back as duplicates; items still unmappable are dead-lettered again.
        """
        if not (year.isdigit() and len(year) == 4 and number.isalnum() and len(number) <= 10):
            raise Problem(
                422,
                "year must be 4 digits and number up to 10 letters or digits",
                errors={"path": {"year": year, "number": number}},
            )
        return service.ingest_material_document(sap(), year, number)


@blp.route("/stock-sync")
class StockSync(MethodView):
    @requires("sap:admin")
    @blp.arguments(StockSyncRequestSchema, example={"plants": ["1010"], "report_drift": True})
    @blp.response(200, StockSyncResultSchema)
    def post(self, body):
        """Snapshot SAP's stock into the gateway (one stock.counted per position)

        Pages through every A_MatlStkInAcctMod record (of the plants/materials named), sums it per
        material and mapped location, and sends each position as a count as of the read time.
        With report_drift, lists where the gateway differed from SAP before the sync.
        """
        return service.sync_stock(
            sap(), plants=body["plants"], materials=body["materials"], report_drift=body["report_drift"]
        )


@blp.route("/stock")
class Stock(MethodView):
    @requires("sap:admin", "inventory:read")
    @blp.arguments(StockQuerySchema, location="query")
    @blp.response(200, StockSchema)
    def get(self, args):
        """SAP's stock of one material now, per gateway location (read live over OData)"""
        return service.read_stock(sap(), sku=args["sku"], location=args["location"])
