"""A small OData v2 endpoint for the client's protocol tests: CSRF tokens bound to a session cookie,
server paging with `__next` or client paging with `$top`/`$skip`, SAP error bodies, and faults
injected per request. The SAP simulator (simulators/sap) stands in for S/4 in the flow tests."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass, field

import flask

ROOT = "/sap/opu/odata/sap"
_DOCUMENT = re.compile(
    r"^A_MaterialDocumentHeader\(MaterialDocumentYear='(?P<year>\d{4})',"
    r"MaterialDocument='(?P<number>\w+)'\)(?P<nav>/to_MaterialDocumentItem)?$"
)


def sap_error(status: int, code: str, message: str, headers: dict | None = None) -> flask.Response:
    body = {"error": {"code": code, "message": {"lang": "en", "value": message}}}
    response = flask.Response(json.dumps(body), status, content_type="application/json")
    response.headers.update(headers or {})
    return response


@dataclass
class FakeSap:
    records: list[dict] = field(default_factory=list)
    server_page_size: int | None = None  # __next paging when set, else $top/$skip is honoured
    absolute_next: bool = True
    faults: list = field(default_factory=list)  # statuses (or "slow") for the next requests, in order
    delay_seconds: float = 0.0
    user: str | None = None
    password: str | None = None
    requests: list[dict] = field(default_factory=list)
    sessions: dict = field(default_factory=dict)  # session cookie -> CSRF token
    posted: list = field(default_factory=list)
    documents: dict = field(default_factory=dict)  # (year, number) -> (header, items)

    def app(self) -> flask.Flask:
        app = flask.Flask("fake_sap")
        fake = self

        @app.before_request
        def record_and_fault():
            request = flask.request
            fake.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "args": dict(request.args),
                    "headers": dict(request.headers),
                }
            )
            if fake.user is not None:
                expected = "Basic " + base64.b64encode(f"{fake.user}:{fake.password}".encode()).decode()
                if request.headers.get("Authorization") != expected:
                    return sap_error(401, "/IWFND/CM_CONSUMER/401", "Logon failed")
            if fake.faults:
                fault = fake.faults.pop(0)
                if fault == "slow":
                    time.sleep(fake.delay_seconds)
                elif fault is not None:
                    return sap_error(fault, "/IWBEP/CM_MGW_RT/500", f"Injected fault {fault}")
            return None

        @app.after_request
        def hand_out_csrf_token(response):
            request = flask.request
            if request.headers.get("X-CSRF-Token", "").lower() == "fetch":
                session = request.cookies.get("SAP_SESSIONID") or uuid.uuid4().hex
                token = uuid.uuid4().hex
                fake.sessions[session] = token
                response.headers["X-CSRF-Token"] = token
                response.set_cookie("SAP_SESSIONID", session)
            return response

        @app.get(f"{ROOT}/<service>/")
        def service_document(service):
            return {"d": {"EntitySets": ["A_MatlStkInAcctMod"]}}

        @app.get(f"{ROOT}/API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod")
        def stock():
            args = flask.request.args
            rows = fake.records
            total = len(rows)
            if fake.server_page_size:
                start = int(args.get("$skiptoken", 0))
                page = rows[start : start + fake.server_page_size]
                d = {"results": page, "__count": str(total)}
                if start + fake.server_page_size < total:
                    link = f"A_MatlStkInAcctMod?$skiptoken={start + fake.server_page_size}"
                    d["__next"] = (
                        f"https://s4.example.com{ROOT}/API_MATERIAL_STOCK_SRV/{link}" if fake.absolute_next else link
                    )
                return {"d": d}
            skip, top = int(args.get("$skip", 0)), int(args.get("$top", total))
            return {"d": {"results": rows[skip : skip + top], "__count": str(total)}}

        @app.post(f"{ROOT}/API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader")
        def post_document():
            request = flask.request
            token = fake.sessions.get(request.cookies.get("SAP_SESSIONID", ""))
            if token is None or request.headers.get("X-CSRF-Token") != token:
                return sap_error(403, "/IWFND/CM_BEC/026", "CSRF token validation failed", {"X-CSRF-Token": "Required"})
            fake.posted.append(request.get_json())
            return {"d": {"MaterialDocument": "4900000001"}}, 201

        @app.get(f"{ROOT}/API_MATERIAL_DOCUMENT_SRV/<path:resource>")
        def document(resource):
            match = _DOCUMENT.match(resource)
            if match is None:
                return sap_error(404, "/IWBEP/CM_MGW_RT/020", f"Resource {resource} not found")
            found = fake.documents.get((match["year"], match["number"]))
            if found is None:
                return sap_error(
                    404, "/IWBEP/CM_MGW_RT/020", "Resource not found for segment 'A_MaterialDocumentHeaderType'"
                )
            header, items = found
            if match["nav"]:
                return {"d": {"results": items, "__count": str(len(items))}}
            if "to_MaterialDocumentItem" in flask.request.args.get("$expand", ""):
                return {"d": {**header, "to_MaterialDocumentItem": {"results": items}}}
            return {"d": {**header, "to_MaterialDocumentItem": {"__deferred": {"uri": "…"}}}}

        @app.get(f"{ROOT}/not-json")
        def not_json():
            return "<html>gateway error page</html>", 200

        return app

    def expire_sessions(self) -> None:
        """SAP dropped its sessions: every token held by a client is now invalid."""
        self.sessions.clear()
