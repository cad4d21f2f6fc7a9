"""Serving a WSGI app with gunicorn from our own commands (`serve`, `sap-sim`, `sf-sim`)."""

from __future__ import annotations

import json
from collections.abc import Callable

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import ThreadWorker

from shared.errors import PROBLEM_CONTENT_TYPE, Problem
from shared.security_headers import HEADERS as SECURITY_HEADERS

#: The worker class every server we start runs (gthread, answering its own errors as problem+json).
WORKER_CLASS = "shared.serving.ProblemThreadWorker"

#: The longest request line (method, target, protocol) our workers take: every query an API documents
#: must reach the API's own validation, which answers what is wrong with it (a 422 naming the field)
#: instead of gunicorn's bare 414. The longest documented query is the process API's availability read:
#: up to 100 `sku` and 100 `location` values of up to 64 characters, each of which a client may send
#: percent-encoded (3 bytes a character): 100 × len("sku=") + 100 × len("location=") + 200 × (64 × 3 + 1
#: for the "&") = 39,900 bytes, plus `channel`, `location_group`, `include`, the path and "GET … HTTP/1.1"
#: (well under 1 KB). 64 KiB holds that with room, so e.g. 1,001 short SKUs (13 KB) get the API's 422.
#: gunicorn caps its own `limit_request_line` at 8190 bytes (or 0: no limit at all, so a client could
#: make a worker buffer a request line as long as it likes); our worker raises that cap to this bound
#: instead. An operator's own --limit-request-line still wins.
REQUEST_LINE_LIMIT = 64 * 1024


def write_problem(sock, status: int, reason: str, message: str) -> None:
    """gunicorn's `util.write_error` (same arguments), answering problem+json instead of an HTML page."""
    body = json.dumps({**Problem(status, message or reason, title=reason).to_dict()}).encode()
    headers = {"Connection": "close", "Content-Type": PROBLEM_CONTENT_TYPE, **SECURITY_HEADERS}
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    util.write_nonblock(sock, head.encode("latin-1") + body)


class DocumentedQueryRequest(Request):
    """gunicorn's request whose request line may be REQUEST_LINE_LIMIT bytes long (unless the operator set
    limit_request_line): gunicorn's Request caps the setting at 8190 bytes before it parses."""

    def parse(self, unreader):
        configured = self.cfg.limit_request_line
        limit = REQUEST_LINE_LIMIT if configured == self.cfg.settings["limit_request_line"].default else configured
        if limit > 0:  # 0: the operator asked for gunicorn's unlimited line
            self.limit_request_line = self._fast_limit_request_line = limit
        return super().parse(unreader)


class ProblemThreadWorker(ThreadWorker):
    """gunicorn's threaded worker whose own answers are problem+json like every answer of our apps, and
    whose request lines may be as long as our longest documented query (REQUEST_LINE_LIMIT).

    gunicorn refuses some requests before any app sees them (a request line or headers beyond its
    limits: 414, 431; a malformed request: 400) and writes those answers with `util.write_error`, as
    HTML. The worker class is gunicorn's extension point and has no hook for that page nor for the
    request class, so this worker swaps both, in its own process, when it starts: the same for `serve`
    and for a gunicorn command line naming this worker class."""

    def init_process(self) -> None:
        util.write_error = write_problem
        RequestParser.mesg_class = DocumentedQueryRequest
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
        "limit_request_line": REQUEST_LINE_LIMIT,
        "accesslog": None,
        **extra,
    }
