"""The split deployment shape over real HTTP against a real redis-server: the process API and each
experience API as gunicorn apps of their own (`create_app()` per package), calling the tier below at
INVENTORY_PROCESS_URL with SERVICE_API_KEY, and `inventory-gateway worker` running the expiry
sweeper. Then faults: the process tier hung or down → the experience APIs answer a 503 problem
quickly (a read timeout, then the open breaker at once) and recover when it returns."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from gateway import demo_data
from gateway.settings import Settings
from process_apis.inventory.bootstrap import bootstrap
from shared.auth import CredentialStore
from tests.support.auth import bearer
from tests.support.processes import ROOT, Gunicorn, start_gunicorn, stop_process

pytestmark = pytest.mark.e2e

TIMEOUT = 10
READ_TIMEOUT_SECONDS = 1.0
BREAKER_FAILURES = 3
BREAKER_RESET_SECONDS = 1.0
HOLD_TTL_SECONDS = 1
SKU = "MAT-1002"


@dataclass
class Stack:
    redis_url: str
    process: Gunicorn
    web: Gunicorn
    store: Gunicorn
    call_centre: Gunicorn
    worker: subprocess.Popen
    keys: dict[str, str]
    directory: Path

    def get(self, api: Gunicorn, path: str, key: str, **options) -> requests.Response:
        return requests.get(api.url + path, headers=bearer(self.keys[key]), timeout=TIMEOUT, **options)

    def post(self, api: Gunicorn, path: str, key: str, body: dict, **headers) -> requests.Response:
        return requests.post(api.url + path, json=body, headers={**bearer(self.keys[key]), **headers}, timeout=TIMEOUT)

    def web_availability(self) -> requests.Response:
        return self.get(self.web, "/web/v1/availability", "web", params={"sku": SKU})

    def process_available(self) -> int:
        answer = self.get(
            self.process,
            "/inventory/v1/availability",
            "service",
            params={"sku": SKU, "location_group": "WEB-SHIP", "channel": "web"},
        )
        return answer.json()["groups"][0]["available_to_sell"]


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    url = redis_server.rsplit("/", 1)[0] + "/8"  # its own database: `redis_url` flushes database 0 per test
    directory = tmp_path_factory.mktemp("split")
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    credentials = CredentialStore(client, cache_seconds=0)
    keys = {
        "service": credentials.create("tiers", kind="service", scopes=["service"])[1],
        "web": credentials.create("shop", kind="channel", scopes=["web"])[1],
        "store": credentials.create("store-s001", kind="channel", scopes=["store"], store_id="S001")[1],
        "call-centre": credentials.create("console", kind="channel", scopes=["call-centre"])[1],
    }
    demo_data.load(bootstrap(Settings(redis_url=url), client))
    client.close()
    base_env = {"REDIS_URL": url, "LOG_LEVEL": "WARNING", "SWEEPER_INTERVAL_SECONDS": "0.2"}
    tier_env = {
        **base_env,
        "SERVICE_API_KEY": keys["service"],
        "UPSTREAM_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT_SECONDS),
        "UPSTREAM_CONNECT_TIMEOUT_SECONDS": "0.5",
        "UPSTREAM_ATTEMPTS": "1",
        "UPSTREAM_BREAKER_FAILURES": str(BREAKER_FAILURES),
        "UPSTREAM_BREAKER_RESET_SECONDS": str(BREAKER_RESET_SECONDS),
        "WEB_HOLD_TTL_SECONDS": str(HOLD_TTL_SECONDS),
        "WEB_AVAILABILITY_CACHE_SECONDS": "0",
    }  # every read reaches the process tier (the faults below)
    started: list = []
    try:
        process = start_gunicorn(
            "process_apis.inventory.app:create_app()", env=base_env, workers=2, logfile=directory / "process.log"
        )
        started.append(process)
        tier_env["INVENTORY_PROCESS_URL"] = process.url
        apis = {}
        for name, factory in (
            ("web", "experience_apis.web.app:create_app()"),
            ("store", "experience_apis.store.app:create_app()"),
            ("call_centre", "experience_apis.call_centre.app:create_app()"),
        ):
            apis[name] = start_gunicorn(factory, env=tier_env, logfile=directory / f"{name}.log")
            started.append(apis[name])
        with open(directory / "worker.log", "ab") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "gateway", "worker"],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT), **base_env},
            )
        started.append(worker)
        stack = Stack(url, process, apis["web"], apis["store"], apis["call_centre"], worker, keys, directory)
        yield stack
        started.append(stack.process)  # the one a test restarted, if it did
    finally:
        for served in reversed(started):
            served.stop() if isinstance(served, Gunicorn) else stop_process(served)


def _tree(pid: int) -> list[int]:
    """`pid` and its children (gunicorn's workers), from /proc."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def _timed(call) -> tuple[requests.Response, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_each_tier_answers_over_http_and_accepts_only_its_own_clients(stack):
    web = stack.web_availability()
    assert web.status_code == 200, web.text
    assert web.json()["items"][0]["sku"] == SKU and "on_hand" not in web.text and web.headers["ETag"]
    assert stack.get(stack.process, "/inventory/v1/availability", "web", params={"sku": SKU}).status_code == 403
    assert stack.get(stack.web, "/web/v1/availability", "service", params={"sku": SKU}).status_code == 403
    assert stack.get(stack.store, "/store/v1/stores/S001/products/" + SKU, "web").status_code == 403
    position = stack.get(stack.store, "/store/v1/stores/S001/products/" + SKU, "store")
    assert position.status_code == 200 and position.json()["on_hand"] > 0
    assert stack.get(stack.store, "/store/v1/stores/S002/products/" + SKU, "store").status_code == 403
    network = stack.get(stack.call_centre, "/call-centre/v1/availability", "call-centre", params={"sku": SKU})
    assert network.status_code == 200 and network.json()


def test_a_web_hold_takes_stock_through_the_process_tier_and_the_worker_releases_it_when_it_expires(stack):
    before = stack.process_available()
    hold = stack.post(
        stack.web,
        f"/web/v1/carts/cart-{uuid.uuid4().hex[:8]}/holds",
        "web",
        {"lines": [{"sku": SKU, "quantity": 2}], "fulfilment": "ship"},
        **{"Idempotency-Key": uuid.uuid4().hex},
    )
    assert hold.status_code == 201, hold.text
    assert stack.process_available() == before - 2
    # the hold lives HOLD_TTL_SECONDS; the worker's sweeper (every 0.2 s) releases it within 2 s of that
    assert _wait_for(lambda: stack.process_available() == before, timeout=HOLD_TTL_SECONDS + 2.5)


def test_a_call_centre_reservation_records_the_agent_in_the_process_tier(stack):
    made = stack.post(
        stack.call_centre,
        "/call-centre/v1/reservations",
        "call-centre",
        {
            "agent_id": "agent-7",
            "external_ref": "ORDER-SPLIT-1",
            "lines": [{"sku": SKU, "location": "S001", "quantity": 1}],
        },
        **{"Idempotency-Key": uuid.uuid4().hex},
    )
    assert made.status_code == 201, made.text
    stored = stack.get(stack.process, f"/inventory/v1/reservations/{made.json()['id']}", "service").json()
    assert stored["created_by"] == "agent-7" and stored["channel"] == "call_centre"


@pytest.mark.slow
def test_a_hung_process_tier_gives_a_quick_503_then_the_breaker_answers_at_once_and_it_recovers(stack):
    assert stack.web_availability().status_code == 200
    pids = _tree(stack.process.process.pid)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        timed_out = [_timed(stack.web_availability) for _ in range(BREAKER_FAILURES)]
        refused, refused_in = _timed(stack.web_availability)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    for answer, seconds in timed_out:
        assert answer.status_code == 503 and answer.headers["Content-Type"] == "application/problem+json"
        assert seconds < READ_TIMEOUT_SECONDS + 1.0, seconds
    assert refused.status_code == 503 and refused_in < 0.3, refused_in
    assert "circuit open" in refused.json()["detail"] and int(refused.headers["Retry-After"]) >= 1
    assert _wait_for(lambda: stack.web_availability().status_code == 200, timeout=BREAKER_RESET_SECONDS + 3)


def test_a_process_tier_that_is_down_gives_a_quick_503_and_its_return_is_noticed(stack):
    port = stack.process.port
    stack.process.stop()
    try:
        answer, seconds = _timed(stack.web_availability)
        assert answer.status_code == 503 and seconds < 1.0, (answer.status_code, seconds)
        assert answer.json()["status"] == 503 and "inventory-process" in answer.json()["detail"]
    finally:
        stack.process = start_gunicorn(
            "process_apis.inventory.app:create_app()",
            workers=2,
            port=port,
            env={"REDIS_URL": stack.redis_url, "LOG_LEVEL": "WARNING"},
            logfile=stack.directory / "process.log",
        )
    assert _wait_for(lambda: stack.web_availability().status_code == 200, timeout=BREAKER_RESET_SECONDS + 3)
