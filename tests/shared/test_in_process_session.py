"""The in-process transport: an app called through InProcessSession sees the same request as one
called over real HTTP, and the caller gets the same answer."""

from __future__ import annotations

import flask
import pytest
import requests

from shared.tier_client import IN_PROCESS_BASE, InProcessSession
from tests.support.processes import serving


def _echo_app() -> flask.Flask:
    app = flask.Flask("echo")

    @app.route("/<path:path>", methods=["GET", "POST", "PUT"])
    def echo(path):
        request = flask.request
        response = flask.jsonify(
            {
                "method": request.method,
                "path": request.path,
                "args": request.args.to_dict(flat=False),
                "json": request.get_json(silent=True),
                "body": request.get_data(as_text=True),
                "authorization": request.authorization.username if request.authorization else None,
                "cookies": request.cookies.to_dict(),
                "custom": request.headers.get("X-Custom"),
                "content_type": request.content_type,
            }
        )
        response.headers.add("X-Repeated", "a")
        response.headers.add("X-Repeated", "b")
        response.set_cookie("SESSION", "s1")
        return response, 201 if request.method == "POST" else 200

    return app


@pytest.fixture(scope="module")
def http_base():
    with serving(_echo_app()) as base:
        yield base


CALLS = [
    ("GET", "/items/caf%C3%A9 1", {"params": {"sku": ["A", "B"], "q": "x y"}}),
    ("POST", "/items", {"json": {"n": 1, "s": "ü"}, "headers": {"X-Custom": "yes"}}),
    ("PUT", "/raw", {"data": b"plain bytes", "headers": {"Content-Type": "text/plain"}}),
    ("GET", "/items?already=1", {"params": {"more": "2"}}),
]


@pytest.mark.parametrize("method,path,options", CALLS)
def test_the_app_sees_the_same_request_in_process_as_over_http(http_base, method, path, options):
    over_http = requests.Session()
    in_process = InProcessSession(_echo_app())
    for session in (over_http, in_process):
        session.auth = ("USER", "secret")
        session.cookies.set("SAP_SESSIONID", "abc")
    remote = over_http.request(method, f"{http_base}{path}", timeout=5, **options)
    local = in_process.request(method, f"{IN_PROCESS_BASE}{path}", timeout=5, **options)
    assert local.status_code == remote.status_code
    assert local.json() == remote.json()
    assert local.headers["X-Repeated"] == remote.headers["X-Repeated"] == "a, b"
    assert "SESSION=s1" in local.headers["Set-Cookie"]


def test_other_urls_still_go_over_http(http_base):
    session = InProcessSession(_echo_app())
    assert session.get(f"{http_base}/anything", timeout=5).json()["path"] == "/anything"
