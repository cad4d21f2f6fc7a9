"""Every label value taken from a request comes from a closed set: made-up methods and status codes
count as "other", so nobody can grow a worker's memory and /metrics by inventing them."""

from __future__ import annotations

import uuid

import flask
import pytest

from shared import metrics


@pytest.fixture
def app():
    app = flask.Flask(f"metrics-{uuid.uuid4().hex}")  # its own api label: counts from other tests stay apart
    metrics.init_app(app, api_name=app.name)

    @app.route("/odd")
    def odd():
        return "", 599  # an answer outside the HTTP status registry, as an upstream may send one

    return app


def _samples(app) -> list[str]:
    with app.app_context():
        text = metrics.render_metrics().get_data(as_text=True)
    return [
        line
        for line in text.splitlines()
        if f'api="{app.name}"' in line and line.startswith("gateway_http_requests_total")
    ]


def test_made_up_methods_share_one_label_value(app):
    client = app.test_client()
    for n in range(50):
        client.open("/livez", method=f"BREW{n}")
    client.get("/nowhere")
    samples = _samples(app)
    assert not any("BREW" in line for line in samples)
    other = [line for line in samples if 'method="other"' in line]
    assert len(other) == 1 and other[0].endswith(" 50.0")
    assert any('method="GET"' in line and 'endpoint="<unmatched>"' in line for line in samples)


def test_a_status_outside_the_registry_is_other(app):
    app.test_client().get("/odd")
    assert [line for line in _samples(app) if 'endpoint="/odd"' in line and 'status="other"' in line]
    assert metrics.status_label(404) == "404" and metrics.status_label(799) == "other"
