"""POST /inventory/v1/events: a batch of canonical events in, an outcome for each out."""

from __future__ import annotations

from flask.views import MethodView

from shared.auth import requires
from shared.idempotency import idempotent
from shared.json_bodies import Blueprint
from shared.logging import current_correlation_id

from ..service.ingest import ingest
from . import inventory
from .events_schemas import EventBatchResultSchema, EventBatchSchema

blp = Blueprint("events", __name__, url_prefix="/inventory/v1/events", description="Canonical inventory events")


@blp.route("")
class Events(MethodView):
    @requires("inventory:write")
    @blp.arguments(
        EventBatchSchema(),
        example={
            "events": [
                {
                    "event_id": "sap:2026:4900000123:0001",
                    "type": "stock.issued",
                    "sku": "MAT-1001",
                    "location": "S001",
                    "quantity": 2,
                    "occurred_at": "2026-11-26T10:15:00Z",
                    "source": "sap",
                    "reference": "ORDER-77",
                    "reason": "sale",
                }
            ]
        },
    )
    @idempotent(required=False)
    @blp.response(200, EventBatchResultSchema)
    def post(self, batch):
        """Apply a batch of 1–1000 events

        Every item gets an outcome: applied, duplicate (event_id seen before), stale (older than
        the position's count, so already inside it) or dead_lettered with a reason. A bad item
        never sinks the batch; the response lists every item that was not applied.
        """
        return ingest(inventory(), batch["events"], correlation_id=current_correlation_id())
