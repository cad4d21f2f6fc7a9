"""How `serve` and the simulators configure gunicorn: their own settings, GUNICORN_CMD_ARGS for the rest,
and a worker whose own answers (requests gunicorn refuses before any app sees them) are problem+json, that
lets every documented query through to the API's own validation, and whose apps refuse a chunked body over
MAX_BODY_BYTES with 413."""

from __future__ import annotations

import socket

import pytest
import redis
import requests

from shared.serving import REQUEST_LINE_LIMIT, WORKER_CLASS, GunicornServer, gthread_config
from tests.support.auth import bearer, stored_service_key
from tests.support.processes import start_gunicorn

MAX_BODY_BYTES = 2048


def test_gunicorn_cmd_args_from_the_environment_set_what_serve_leaves_open(monkeypatch):
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--worker-connections 12 --timeout 75 --threads 3 --workers 5")
    server = GunicornServer(lambda: None, gthread_config("127.0.0.1", 8080, workers=1, threads=8))
    assert (server.cfg.worker_connections, server.cfg.timeout) == (12, 75)
    # what serve decides stays decided: one worker where the state lives in the process
    assert (server.cfg.workers, server.cfg.threads, server.cfg.bind) == (1, 8, ["127.0.0.1:8080"])


def test_without_gunicorn_cmd_args_our_configuration_stands(monkeypatch):
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    server = GunicornServer(lambda: None, gthread_config("127.0.0.1", 8080, workers=2, threads=8))
    assert (server.cfg.workers, server.cfg.threads, server.cfg.worker_class_str) == (2, 8, WORKER_CLASS)
    assert server.cfg.limit_request_line == REQUEST_LINE_LIMIT


@pytest.fixture(scope="module")
def served(tmp_path_factory, redis_server):
    redis_url = redis_server.rsplit("/", 1)[0] + "/11"  # its own database: `redis_url` flushes database 0
    server = start_gunicorn(
        "process_apis.inventory.app:create_app()",
        env={"REDIS_URL": redis_url, "LOG_LEVEL": "WARNING", "MAX_BODY_BYTES": str(MAX_BODY_BYTES)},
        logfile=tmp_path_factory.mktemp("serving") / "gunicorn.log",
    )
    server.api_key = stored_service_key(redis.Redis.from_url(redis_url))
    yield server
    server.stop()


@pytest.mark.e2e
def test_a_request_line_beyond_gunicorns_limit_is_a_414_problem(served):
    answer = requests.get(f"{served.url}/inventory/v1/availability", params={"sku": "M" * 70_000}, timeout=10)
    assert answer.status_code == 414 and answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 414 and "Request Line is too large" in answer.json()["detail"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in answer.headers


@pytest.mark.e2e
def test_the_longest_documented_query_reaches_the_apis_own_validation(served):
    # 100 SKUs and 100 locations of 64 characters, every one percent-encoded: the longest query the
    # process API documents, which must be answered by the API, not refused by gunicorn.
    longest = "%41" * 64
    query = "&".join([f"sku={longest}"] * 100 + [f"location={longest}"] * 100 + ["channel=web", "include=incoming"])
    answer = requests.get(f"{served.url}/inventory/v1/availability?{query}", headers=bearer(served.api_key), timeout=10)
    assert answer.status_code == 404, answer.text[:300]  # its own answer: no such locations
    assert answer.json()["type"].endswith("/unknown-location")


@pytest.mark.e2e
def test_a_thousand_and_one_skus_are_the_apis_own_422_not_a_414(served):
    query = "&".join(["sku=MAT-0001"] * 1001)
    answer = requests.get(f"{served.url}/inventory/v1/availability?{query}", headers=bearer(served.api_key), timeout=10)
    assert answer.status_code == 422, answer.text[:300]
    assert "sku" in answer.json()["errors"]["query"]


@pytest.mark.e2e
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_over_the_cap_is_a_413_problem_however_it_is_sent(served, chunked):
    body = b'{"events": [' + b'{"event_id": "e"},' * 200 + b'{"event_id": "e"}]}'
    assert len(body) > MAX_BODY_BYTES
    data = (body[start : start + 512] for start in range(0, len(body), 512)) if chunked else body
    answer = requests.post(
        f"{served.url}/inventory/v1/events",
        data=data,
        headers={**bearer(served.api_key), "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 413, answer.text[:300]
    assert answer.headers["Content-Type"] == "application/problem+json" and answer.json()["status"] == 413


@pytest.mark.e2e
def test_headers_beyond_gunicorns_limit_are_a_431_problem(served):
    answer = requests.get(f"{served.url}/livez", headers={f"X-Filler-{n}": "x" for n in range(120)}, timeout=10)
    assert answer.status_code == 431 and answer.json()["title"] == "Request Header Fields Too Large"


@pytest.mark.e2e
def test_a_malformed_request_line_is_a_400_problem(served):
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"GET /livez HTTP/9.9\r\nHost: x\r\n\r\n")
        head, _, body = connection.recv(65536).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"application/problem+json" in head and b'"status": 400' in body
