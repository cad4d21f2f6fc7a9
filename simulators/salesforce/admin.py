"""The simulator's own control API under /sf-sim/admin (not Salesforce's): faults, tokens, usage,
records, write history, published events. Basic auth with the connected app's client id and
secret; errors are problem+json. Nothing here counts as API usage. Endpoints:
  GET|PUT /faults                      fault settings (PUT takes any subset of fields)
  POST /tokens/expire                  every access token issued so far stops working
  GET  /usage                          {"used", "limit", "header"}
  POST /reset                          {"demo": bool}: forget records, events, tokens, usage; reset faults
  GET  /records/<Object>               every record of an object
  GET  /history/<Object>/<id>          every write of one record, oldest first
  GET  /history/<Object>/<Field>/<value>   the same, found by a field's value (e.g. the external id)
  GET  /platform-events/<Name>         published events in order
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from shared.errors import Problem
from simulators.salesforce.org import SalesforceOrg

ADMIN_ROOT = "/sf-sim/admin"

blueprint = Blueprint("sf_sim_admin", __name__, url_prefix=ADMIN_ROOT)


def _org() -> SalesforceOrg:
    return current_app.extensions["salesforce_org"]


def _body() -> dict:
    body = request.get_json(silent=True) if request.get_data() else {}  # an empty body means no options
    if not isinstance(body, dict):
        raise Problem(400, "The request body must be a JSON object.")
    return body


@blueprint.before_request
def require_credentials() -> None:
    credentials, org = request.authorization, _org()
    if (
        credentials is None
        or credentials.type != "basic"
        or not hmac.compare_digest(credentials.username or "", org.client_id)
        or not hmac.compare_digest(credentials.password or "", org.client_secret)
    ):
        raise Problem(
            401,
            "Basic credentials of the connected app (client id and secret) are required.",
            headers={"WWW-Authenticate": 'Basic realm="sf-sim admin"'},
        )


@blueprint.errorhandler(KeyError)
def render_unknown(error: KeyError) -> Response:
    return Problem(404, str(error.args[0]) if error.args else "Not found").to_response()


@blueprint.get("/faults")
def get_faults():
    return jsonify(_org().faults.settings.to_dict())


@blueprint.put("/faults")
def put_faults():
    try:
        settings = _org().faults.update(**_body())
    except (TypeError, ValueError) as error:
        raise Problem(400, str(error)) from error
    return jsonify(settings.to_dict())


@blueprint.post("/tokens/expire")
def expire_tokens():
    return jsonify({"expired": _org().expire_tokens()})


@blueprint.get("/usage")
def usage():
    return jsonify(_org().usage_report())


@blueprint.post("/reset")
def reset():
    _org().reset(demo=bool(_body().get("demo", False)))
    return jsonify(_org().usage_report())


@blueprint.get("/records/<name>")
def records(name: str):
    return jsonify(_org().records(name))


@blueprint.get("/history/<name>/<record_id>")
def history(name: str, record_id: str):
    return jsonify(_org().history(name, record_id))


@blueprint.get("/history/<name>/<field>/<path:value>")
def history_by_value(name: str, field: str, value: str):
    return jsonify(_org().history(name, field, value))


@blueprint.get("/platform-events/<name>")
def platform_events(name: str):
    return jsonify(_org().platform_events(name))
