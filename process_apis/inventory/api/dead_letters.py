"""The dead-letter queue: list, read, re-drive, discard (the reason is kept)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from shared.errors import Problem
from shared.idempotency import idempotent
from shared.logging import current_correlation_id

from ..schemas import DeadLetterPageSchema, DeadLetterQuerySchema, DeadLetterSchema, DiscardSchema
from ..service import dead_letters as service
from . import inventory

blp = Blueprint("dead_letters", __name__, url_prefix="/inventory/v1/dead-letters", description="Dead letters")


@blp.route("")
class DeadLetters(MethodView):
    @blp.arguments(DeadLetterQuerySchema, location="query")
    @blp.response(200, DeadLetterPageSchema)
    def get(self, args):
        """List dead letters, oldest first, filterable by status and reason"""
        items, cursor = inventory().dead_letters.page(
            status=args["status"], reason=args["reason"], after=args["after"], limit=args["limit"])
        return {"items": items, "next": cursor}


@blp.route("/<entry_id>")
class DeadLetter(MethodView):
    @blp.response(200, DeadLetterSchema)
    def get(self, entry_id):
        """Read one dead letter"""
        entry = inventory().dead_letters.get(entry_id)
        if entry is None:
            raise Problem(404, f"no dead letter {entry_id}", type_slug="unknown-dead-letter")
        return entry

    @blp.arguments(DiscardSchema, example={"reason": "test event sent by mistake"})
    @blp.response(200, DeadLetterSchema)
    def delete(self, body, entry_id):
        """Discard a dead letter; it is kept, closed, with the reason given"""
        return service.discard(inventory(), entry_id, body["reason"])


@blp.route("/<entry_id>/redrive")
class Redrive(MethodView):
    @idempotent(required=False)
    @blp.response(200, DeadLetterSchema)
    def post(self, entry_id):
        """Feed the event through ingest again (e.g. after creating the missing location)"""
        return service.redrive(inventory(), entry_id, correlation_id=current_correlation_id())
