"""The dead-letter queue: list, read, re-drive, discard (the reason is kept)."""

from __future__ import annotations

from flask.views import MethodView

from shared.auth import requires
from shared.errors import Problem
from shared.idempotency import idempotent
from shared.json_bodies import Blueprint
from shared.logging import current_correlation_id

from ..service import dead_letters as service
from . import inventory
from .dead_letters_schemas import (
    DeadLetterIdsSchema,
    DeadLetterPageSchema,
    DeadLetterQuerySchema,
    DeadLetterSchema,
    DiscardSchema,
    ForeignDeadLetterBatchSchema,
)

blp = Blueprint("dead_letters", __name__, url_prefix="/inventory/v1/dead-letters", description="Dead letters")


@blp.route("")
class DeadLetters(MethodView):
    @requires("inventory:admin")
    @blp.arguments(DeadLetterQuerySchema(), location="query")
    @blp.response(200, DeadLetterPageSchema)
    def get(self, args):
        """List dead letters, oldest first, filterable by status and reason"""
        items, cursor = inventory().dead_letters.page(
            status=args["status"], reason=args["reason"], after=args["after"], limit=args["limit"]
        )
        return {"items": items, "next": cursor}

    @requires("inventory:write")
    @blp.arguments(
        ForeignDeadLetterBatchSchema(),
        example={
            "dead_letters": [
                {
                    "reason": "unmapped_location",
                    "detail": "plant 1010 / storage location 0009 is not mapped",
                    "payload": {"MaterialDocument": "4900000001", "MaterialDocumentItem": "0001"},
                    "source": "sap",
                }
            ]
        },
    )
    @idempotent(required=False)
    @blp.response(201, DeadLetterIdsSchema)
    def post(self, batch):
        """Dead-letter items a system API could not turn into canonical events, with its reason

        Nothing a source sends is dropped silently: what a system API cannot map lands here,
        beside the process API's own dead letters, for an operator to see.
        """
        items = [(e["reason"], e["detail"], e["payload"], e["source"]) for e in batch["dead_letters"]]
        ids = inventory().dead_letters.add_many(items, correlation_id=current_correlation_id())
        return {"received": len(ids), "dead_letter_ids": ids}


@blp.route("/<entry_id>")
class DeadLetter(MethodView):
    @requires("inventory:admin")
    @blp.response(200, DeadLetterSchema)
    def get(self, entry_id):
        """Read one dead letter"""
        entry = inventory().dead_letters.get(entry_id)
        if entry is None:
            raise Problem(404, f"no dead letter {entry_id}", type_slug="unknown-dead-letter")
        return entry

    @requires("inventory:admin")
    @blp.arguments(DiscardSchema(), example={"reason": "test event sent by mistake"})
    @blp.response(200, DeadLetterSchema)
    def delete(self, body, entry_id):
        """Discard a dead letter; it is kept, closed, with the reason given"""
        return service.discard(inventory(), entry_id, body["reason"])


@blp.route("/<entry_id>/redrive")
class Redrive(MethodView):
    @requires("inventory:admin")
    @idempotent(required=False)
    @blp.response(200, DeadLetterSchema)
    def post(self, entry_id):
        """Feed the event through ingest again (e.g. after creating the missing location)

        409 when the entry is closed, or when it holds a system API's record rather than a canonical
        event (an SAP item): the problem's `replay` names where to replay it after the fix."""
        return service.redrive(inventory(), entry_id, correlation_id=current_correlation_id())
