"""How `serve` and the simulators configure gunicorn: their own settings, GUNICORN_CMD_ARGS for the rest,
and a worker whose own answers (requests gunicorn refuses before any app sees them) are problem+json."""

from __future__ import annotations

import socket

import pytest
import requests

from shared.serving import WORKER_CLASS, GunicornServer, gthread_config
from tests.support.processes import start_gunicorn


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


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = start_gunicorn(
        "process_apis.inventory.app:create_app()",
        env={"REDIS_URL": "", "LOG_LEVEL": "WARNING"},
        logfile=tmp_path_factory.mktemp("serving") / "gunicorn.log",
    )
    yield server
    server.stop()


@pytest.mark.e2e
def test_a_request_line_beyond_gunicorns_limit_is_a_414_problem(served):
    answer = requests.get(f"{served.url}/inventory/v1/availability", params={"sku": "M" * 5000}, timeout=10)
    assert answer.status_code == 414 and answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 414 and "Request Line is too large" in answer.json()["detail"]


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
