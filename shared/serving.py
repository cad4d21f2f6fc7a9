"""Serving a WSGI app with gunicorn from our own commands (`serve`, `sap-sim`, `sf-sim`)."""

from __future__ import annotations

import json
from collections.abc import Callable

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from shared.errors import PROBLEM_CONTENT_TYPE, Problem

#: The worker class every server we start runs (gthread, answering its own errors as problem+json).
WORKER_CLASS = "shared.serving.ProblemThreadWorker"


def write_problem(sock, status: int, reason: str, message: str) -> None:
    """gunicorn's `util.write_error` (same arguments), answering problem+json instead of an HTML page."""
    body = json.dumps({**Problem(status, message or reason, title=reason).to_dict()}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: {PROBLEM_CONTENT_TYPE}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


class ProblemThreadWorker(ThreadWorker):
    """gunicorn's threaded worker whose own answers are problem+json like every answer of our apps.

    gunicorn refuses some requests before any app sees them (a request line or headers beyond its
    limits: 414, 431; a malformed request: 400) and writes those answers with `util.write_error`, as
    HTML. The worker class is gunicorn's extension point and has no hook for that page, so this worker
    swaps the function, in its own process, when it starts."""

    def init_process(self) -> None:
        util.write_error = write_problem
        super().init_process()


class GunicornServer(BaseApplication):
    """gunicorn's documented custom-application pattern: the configuration as a dict, the app from a
    factory that runs in each worker after the fork (so state and threads belong to the worker)."""

    def __init__(self, app_factory: Callable, config: dict) -> None:
        self._app_factory, self._config = app_factory, config
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._config.items():
            self.cfg.set(name, value)
        # GUNICORN_CMD_ARGS, as the gunicorn command reads it (e.g. "--timeout 60 --worker-connections
        # 200"), for every setting not decided here: gunicorn's other settings stay reachable, and the
        # ones decided here (bind, workers: one where the state lives in the process) stay decided.
        from_env = self.cfg.get_cmd_args_from_env()
        if from_env:
            for name, value in vars(self.cfg.parser().parse_args(from_env)).items():
                if value is not None and name.lower() not in self._config and name not in ("args", "config"):
                    self.cfg.set(name.lower(), value)

    def load(self):
        return self._app_factory()


def gthread_config(host: str, port: int, *, workers: int = 1, threads: int = 8, **extra) -> dict:
    """Threaded workers answering problem+json, no gunicorn access log (every app logs one JSON line per
    request itself)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": WORKER_CLASS,
        "accesslog": None,
        **extra,
    }
