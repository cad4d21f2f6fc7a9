"""The simulator's own control API under /sap-sim/admin (not SAP's): stock, faults, subscriptions.

Same Basic credentials as the OData services; errors are problem+json. Endpoints:
  GET  /stock                 the whole stock table as plain JSON
  PUT  /stock                 replace materials, storage locations and stock with the body
  POST /stock                 add/overwrite the given materials, locations and stock rows
  GET|PUT /faults             fault settings (PUT takes any subset of fields)
  GET|POST /subscriptions     event subscribers; POST {"url", "mode": structured|binary, "auth": hmac|basic}
  DELETE /subscriptions/<id>
  GET  /deliveries            push counters (pending, delivered, undeliverable, …)
  GET  /deliveries/undeliverable   parked pushes with their last error
  POST /deliveries/flush      {"timeout": s}: wait until no push is pending
  POST /reset                 {"demo": bool}: empty stock and documents (optionally re-seed the demo)
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from shared.errors import Problem
from simulators.sap.errors import ODataError
from simulators.sap.routes import authenticated_user
from simulators.sap.system import SapSystem

ADMIN_ROOT = "/sap-sim/admin"

blueprint = Blueprint("sap_sim_admin", __name__, url_prefix=ADMIN_ROOT)


def _system() -> SapSystem:
    return current_app.extensions["sap_system"]


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise Problem(400, "The request body must be a JSON object.")
    return body


@blueprint.before_request
def require_credentials() -> None:
    try:
        authenticated_user(_system())
    except ODataError as error:
        raise Problem(401, error.message, headers=error.headers) from error


@blueprint.errorhandler(Problem)
def render_problem(problem: Problem) -> Response:
    return problem.to_response()


@blueprint.get("/stock")
def get_stock():
    return jsonify(_system().stock_snapshot())


@blueprint.route("/stock", methods=["PUT", "POST"])
def load_stock():
    system, body = _system(), _body()
    try:
        if request.method == "PUT":
            system.stock.clear()
        if "allow_negative_stock" in body:
            system.stock.allow_negative_stock = bool(body["allow_negative_stock"])
        for material in body.get("materials", []):
            system.stock.add_material(
                material["material"], material.get("base_unit", "PC"), material.get("conversions") or {}
            )
        for location in body.get("storage_locations", []):
            plant, _, sloc = str(location).partition("/")
            system.stock.add_storage_location(plant, sloc)
        for row in body.get("stock", []):
            system.stock.set_quantity(
                row["material"],
                row["plant"],
                row["storage_location"],
                row.get("stock_type", "01"),
                row["quantity"],
                row.get("batch", ""),
            )
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise Problem(400, f"Invalid stock body: {error!r}") from error
    return jsonify(system.stock_snapshot())


@blueprint.get("/faults")
def get_faults():
    return jsonify(_system().faults.settings.to_dict())


@blueprint.put("/faults")
def put_faults():
    try:
        settings = _system().faults.update(**_body())
    except (TypeError, ValueError) as error:
        raise Problem(400, str(error)) from error
    return jsonify(settings.to_dict())


@blueprint.get("/subscriptions")
def list_subscriptions():
    return jsonify([s.to_dict() for s in _system().events.subscriptions()])


@blueprint.post("/subscriptions")
def add_subscription():
    body = _body()
    try:
        subscription = _system().events.subscribe(
            body.get("url"), mode=body.get("mode", "structured"), auth=body.get("auth", "hmac"), token=body.get("token")
        )
    except ValueError as error:
        raise Problem(400, str(error)) from error
    return jsonify(subscription.to_dict()), 201


@blueprint.delete("/subscriptions/<subscription_id>")
def remove_subscription(subscription_id: str):
    if not _system().events.unsubscribe(subscription_id):
        raise Problem(404, f"No subscription {subscription_id}")
    return "", 204


@blueprint.get("/deliveries")
def deliveries():
    return jsonify(_system().events.stats())


@blueprint.get("/deliveries/undeliverable")
def undeliverable():
    return jsonify(_system().events.undeliverable())


@blueprint.post("/deliveries/flush")
def flush():
    timeout = _body().get("timeout", 10)
    if not isinstance(timeout, (int, float)) or not 0 <= timeout <= 120:
        raise Problem(400, "timeout must be a number of seconds between 0 and 120")
    idle = _system().events.flush(timeout)
    return jsonify({"idle": idle, **_system().events.stats()})


@blueprint.post("/reset")
def reset():
    _system().reset(demo=bool(_body().get("demo", False)))
    return jsonify(_system().stock_snapshot())
