"""Per-client rate limits: counted in Redis and so shared by every worker; 429 problem+json + Retry-After."""

import requests
from flask.views import MethodView
from flask_smorest import Blueprint

from shared import auth
from shared.app import create_api_app
from shared.auth import CredentialStore, requires, service_api_key
from tests.support.processes import serving

#: Exact counts (every request syncs with Redis), so the tests can name the request that is refused.
LIMITS = {"rate_limit_channel": "3/minute", "rate_limit_operator": "5/minute", "rate_limit_sync_seconds": 0}
TIMEOUT = 5


def availability_blueprint() -> Blueprint:
    blp = Blueprint("availability", __name__, url_prefix="/availability")

    @blp.route("")
    class Availability(MethodView):
        @requires("web", "inventory:read", "service")
        @blp.response(200)
        def get(self):
            return {"sku": "MAT-1001", "status": "in_stock"}

    return blp


def worker_app(settings, limiter=None, redis=None):
    """One gunicorn worker's app: its own Flask app, credential store and (unless given) limiter."""
    return create_api_app(
        "rate_demo",
        title="Rate demo",
        version="1.0",
        settings=settings,
        blueprints=[availability_blueprint()],
        redis=redis,
        auth_kinds=auth.KINDS,
        limiter=limiter,
    )


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_limit_is_shared_by_two_workers_on_one_redis_and_answers_429_with_retry_after(redis_url, settings_for):
    settings = settings_for(redis_url, **LIMITS)
    first, second = worker_app(settings), worker_app(settings)
    _, key = CredentialStore(first.extensions["redis"]).create("web-shop", kind="channel", scopes=["web"])
    with serving(first) as first_url, serving(second) as second_url:
        statuses = [
            requests.get(f"{url}/availability", headers=bearer(key), timeout=TIMEOUT).status_code
            for url in (first_url, second_url, first_url)
        ]
        refused = requests.get(f"{second_url}/availability", headers=bearer(key), timeout=TIMEOUT)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    # Sliding window: this window's 3 requests weigh 2 (room for one more) a third into the next window.
    assert 1 <= int(refused.headers["Retry-After"]) <= 80
    body = refused.json()
    assert body["status"] == 429 and "3 per minute" in body["detail"]


def test_each_client_has_its_own_budget_sized_by_its_kind(redis_url, settings_for):
    app = worker_app(settings_for(redis_url, **LIMITS))
    store = CredentialStore(app.extensions["redis"])
    _, web = store.create("web-shop", kind="channel", scopes=["web"])
    _, other_web = store.create("web-shop-eu", kind="channel", scopes=["web"])
    _, operator = store.create("operator", kind="operator", scopes=["inventory:read"])
    client = app.test_client()
    web_statuses = [client.get("/availability", headers=bearer(web)).status_code for _ in range(4)]
    assert web_statuses == [200, 200, 200, 429]
    assert client.get("/availability", headers=bearer(other_web)).status_code == 200
    operator_statuses = [client.get("/availability", headers=bearer(operator)).status_code for _ in range(6)]
    assert operator_statuses == [200] * 5 + [429]


def test_refused_requests_and_public_endpoints_do_not_use_up_a_budget(redis_url, settings_for):
    app = worker_app(settings_for(redis_url, **LIMITS))
    _, key = CredentialStore(app.extensions["redis"]).create("web-shop", kind="channel", scopes=["web"])
    client = app.test_client()
    for _ in range(5):
        assert client.get("/availability", headers=bearer("igw_web-shop.wrong")).status_code == 401
        assert client.get("/livez").status_code == 200
    assert [client.get("/availability", headers=bearer(key)).status_code for _ in range(3)] == [200] * 3


def test_in_process_service_key_is_not_rate_limited_but_a_service_account_is(redis_url, settings_for):
    app = worker_app(settings_for(redis_url, rate_limit_service="2/minute", rate_limit_sync_seconds=0))
    _, account = CredentialStore(app.extensions["redis"]).create("experience-tier", kind="service", scopes=["service"])
    client = app.test_client()
    in_process = service_api_key(None)
    assert {client.get("/availability", headers=bearer(in_process)).status_code for _ in range(10)} == {200}
    assert [client.get("/availability", headers=bearer(account)).status_code for _ in range(3)] == [200, 200, 429]


def test_embedded_store_counts_for_every_app_of_the_process(settings_for):
    settings = settings_for(None, **LIMITS)
    web_api, call_centre_api = worker_app(settings), worker_app(settings)
    # The embedded store lives as long as the test process: a client of its own starts from zero.
    _, key = CredentialStore(web_api.extensions["redis"]).create(
        "embedded-web-shop", kind="channel", scopes=["web"], rotate=True
    )
    statuses = [
        app.test_client().get("/availability", headers=bearer(key)).status_code
        for app in (web_api, call_centre_api, web_api, call_centre_api)
    ]
    assert statuses == [200, 200, 200, 429]


def test_limit_counts_on_a_redis_cluster(cluster_url, settings_for):
    app = worker_app(settings_for(cluster_url, **LIMITS))
    _, key = CredentialStore(app.extensions["redis"]).create("web-shop", kind="channel", scopes=["web"])
    client = app.test_client()
    assert [client.get("/availability", headers=bearer(key)).status_code for _ in range(4)] == [200, 200, 200, 429]
