"""Operator repairs of one position: POST …/watermarks/reset."""

from __future__ import annotations

from flask.views import MethodView

from shared.auth import current_credential, requires
from shared.idempotency import idempotent
from shared.json_bodies import Blueprint

from ..service import positions as service
from . import check_identifier, inventory
from .positions_schemas import WatermarkResetResultSchema, WatermarkResetSchema

blp = Blueprint("positions", __name__, url_prefix="/inventory/v1/positions", description="Position repairs")


@blp.route("/<sku>/<location>/watermarks/reset")
class WatermarkReset(MethodView):
    @requires("inventory:admin")
    @blp.arguments(
        WatermarkResetSchema(),
        example={"fields": ["on_hand"], "reason": "count dated 9999-12-31 accepted before the clock-skew check"},
    )
    @idempotent(required=False)
    @blp.response(200, WatermarkResetResultSchema)
    def post(self, body, sku, location):
        """Clear the watermarks of a position's stock fields (all, or those named)

        A count dated in the future sets a watermark every later event of its position falls behind
        (`stale`). After the reset the next count of each field applies and every delta applies again;
        the quantities stay as they are until that count (e.g. `inventory-gateway sap-sync --material`).
        Audited in the log (who, which position, the watermarks before and after) and appended to the
        SKU's log, so a replay resets at the same point. 404 when the SKU has no position there.
        """
        check_identifier("sku", sku)
        check_identifier("location", location)
        credential = current_credential()
        return service.reset_watermarks(
            inventory(),
            sku=sku,
            location=location,
            fields=body["fields"],
            reason=body["reason"],
            actor=credential.client_id if credential else "anonymous",
        )
