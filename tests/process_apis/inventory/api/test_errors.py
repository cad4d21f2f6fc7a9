"""Every error of the process API is an application/problem+json document: routes, validation,
preconditions, an unexpected exception, Redis down."""

from __future__ import annotations

import pytest

from gateway.settings import Settings
from process_apis.inventory.app import create_app
from shared.auth import public
from shared.redis import create_redis
from tests.process_apis.inventory.support import V1, assert_problem, reserve
from tests.support.auth import service_client
from tests.support.inventory import event_json
from tests.support.redis_servers import free_port


@pytest.mark.parametrize(
    ("status", "request_"),
    [
        (404, lambda api: api.get("/no/such/route")),
        (404, lambda api: api.get(f"{V1}/locations/NOWHERE")),
        (404, lambda api: api.get(f"{V1}/dead-letters/nope")),
        (405, lambda api: api.delete(f"{V1}/events")),
        (422, lambda api: api.put(f"{V1}/locations/S1", json={"type": "moon"})),
        (412, lambda api: api.put(f"{V1}/rules", json={}, headers={"If-Match": '"rules-v9"'})),
        (428, lambda api: api.put(f"{V1}/rules", json={})),
        (409, lambda api: reserve(api, {"sku": "MAT-1", "location": "S1", "quantity": 1})),
    ],
    ids=["route", "location", "dead letter", "405", "422", "412", "428", "409"],
)
def test_every_error_is_a_problem_document(network, status, request_):
    assert_problem(request_(network), status)


def test_an_unexpected_exception_is_a_500_problem_without_internals(app):
    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", "explode", public(explode))

    response = service_client(app).get("/explode")

    problem = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in problem["detail"]


def test_redis_being_down_is_a_503_problem_to_retry_shortly():
    # The in-process service key is checked without Redis: these reach the views' own Redis calls.
    settings = Settings.from_env({"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "REDIS_TIMEOUT_SECONDS": "0.5"})
    api = service_client(create_app(settings, create_redis(settings)))

    for answer in (
        api.get(f"{V1}/locations"),
        api.post(f"{V1}/events", json={"events": [event_json("e", "stock.received")]}),
    ):
        assert assert_problem(answer, 503)["type"].endswith("/store-unavailable")
        assert answer.headers["Retry-After"] == "1"
