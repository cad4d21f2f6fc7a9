"""GET/PUT /inventory/v1/rules: the versioned availability rule set (ETag / If-Match)."""

from __future__ import annotations

import flask
from flask.views import MethodView

from shared.auth import requires
from shared.json_bodies import Blueprint

from ..service import rules as rules_service
from . import inventory
from .rules_schemas import RuleSetDocumentSchema, RuleSetSchema

blp = Blueprint("rules", __name__, url_prefix="/inventory/v1/rules", description="Availability rules as data")
_rule_set = RuleSetSchema()


def _document_response(version: int, document: dict):
    # The stored document is already dumped (instants as text); load it back so the response
    # schema dumps it once, like any other object.
    return {**_rule_set.load(document), "version": version}, 200, {"ETag": rules_service.etag(version)}


@blp.route("")
class Rules(MethodView):
    @requires("inventory:read")
    @blp.response(200, RuleSetDocumentSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self):
        """Read the rule set and its ETag"""
        return _document_response(*rules_service.current(inventory()))

    @requires("inventory:admin")
    @blp.arguments(
        RuleSetSchema(),
        example={
            "safety_stock": [{"units": 2}, {"location_type": "dc", "percent": 5}],
            "allocations": [{"channel": "store", "location": "S001", "units": 3}],
            "low_stock": [{"threshold": 5}],
            "categories": {"apparel": ["TS-*"]},
            "channels_selling_incoming": ["web"],
            "max_hold_share": {"web": 0.5},
        },
    )
    @blp.response(200, RuleSetDocumentSchema)
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "If-Match",
                "required": True,
                "schema": {"type": "string"},
                "description": "the ETag from GET /rules",
            }
        ]
    )
    @blp.alt_response(412, description="The rule set changed since that ETag")
    @blp.alt_response(428, description="If-Match missing")
    def put(self, rule_set):
        """Replace the rule set (If-Match required); availability changes at once"""
        document = _rule_set.dump(rule_set)
        version = rules_service.replace(inventory(), document, if_match=flask.request.headers.get("If-Match"))
        return _document_response(version, document)
