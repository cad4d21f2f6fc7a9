"""Helpers for what the tests start: stopping a child process, the background worker, serving a WSGI
app over real HTTP (in a thread, or as an app factory under gunicorn in a process of its own)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from werkzeug.serving import make_server

from shared.serving import WORKER_CLASS

ROOT = Path(__file__).resolve().parents[2]


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate `process` and wait for it; kill it when it does not exit within `timeout`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_worker(env: dict[str, str], logfile: Path) -> subprocess.Popen:
    """`inventory-gateway worker` (the sweeper, and the publisher with SALESFORCE_SYSTEM_URL) with
    `env` over os.environ, in a process of its own, its output appended to `logfile`."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    with open(logfile, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", "worker"], cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )


#: A worker publishing to a test receiver: a short window, and one quick attempt per send.
PUBLISHER_WORKER_ENV = {
    "PUBLISHER_WINDOW_MS": "50",
    "UPSTREAM_CONNECT_TIMEOUT_SECONDS": "0.5",
    "UPSTREAM_READ_TIMEOUT_SECONDS": "2",
    "UPSTREAM_ATTEMPTS": "1",
    "LOG_LEVEL": "INFO",
}


def start_publisher(redis_url: str, receiver_url: str, logfile: Path) -> subprocess.Popen:
    """A worker whose publisher sends to `receiver_url` (the lease settings left at their defaults)."""
    return start_worker(
        {"REDIS_URL": redis_url, "SALESFORCE_SYSTEM_URL": receiver_url, **PUBLISHER_WORKER_ENV}, logfile
    )


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (a free port) in threads (werkzeug); yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@dataclass
class Gunicorn:
    """An app factory served by gunicorn (our gthread worker) in a process of its own."""

    factory: str
    port: int
    process: subprocess.Popen
    logfile: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.logfile.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process)


def start_gunicorn(
    factory: str,
    *,
    env: dict[str, str],
    logfile: Path,
    workers: int = 1,
    threads: int = 4,
    port: int | None = None,
    ready_path: str = "/readyz",
    timeout: float = 30.0,
    worker_connections: int | None = None,
) -> Gunicorn:
    """Serve `factory` (e.g. "experience_apis.web.app:create_app()") with `env` over os.environ, on
    `port` (default a free one), and wait until GET `ready_path` answers 200. `worker_connections`:
    gunicorn's cap on one worker's connections (default 1000)."""
    from tests.support.redis_servers import free_port  # here: redis_servers imports this module

    port = port or free_port()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **env}
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        WORKER_CLASS,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--keep-alive",
        "30",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "--error-logfile",
        "-",
        *(["--worker-connections", str(worker_connections)] if worker_connections else []),
        factory,
    ]
    with open(logfile, "ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    server = Gunicorn(factory, port, process, logfile)
    await_ready(server, server.url + ready_path, name=f"gunicorn {factory}", timeout=timeout)
    return server


def await_ready(served, url: str, *, name: str, timeout: float, auth: tuple[str, str] | None = None) -> None:
    """Poll GET `url` until it answers 200. `served` has `.process`, `.output()` and `.stop()`: when its
    process exits, or `timeout` passes, it is stopped and a RuntimeError shows the end of its output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"{name} exited with {served.process.returncode}:\n{served.output()[-4000:]}")
        try:
            if requests.get(url, auth=auth, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    served.stop()
    raise RuntimeError(f"{name} did not answer {url} within {timeout}s:\n{served.output()[-4000:]}")
