"""JSON log lines on stderr, request correlation ids, and one access line per request."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid

import flask

CORRELATION_HEADER = "X-Correlation-ID"
_VALID_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

access_logger = logging.getLogger("gateway.access")


def current_correlation_id() -> str | None:
    """The correlation id of the request being served, or None outside a request."""
    if not flask.has_request_context():
        return None
    return flask.g.get("correlation_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, correlation_id, then any `extra`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None) or current_correlation_id(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class _StderrHandler(logging.StreamHandler):
    # Resolve sys.stderr at emit time: test runners and gunicorn swap it after start-up.
    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str = "INFO") -> None:
    """Send root-logger output to stderr as JSON; safe to call once per app created."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app: flask.Flask) -> None:
    """Give every request a correlation id (echoed back) and an access log line."""
    app.before_request(_start_request)
    app.after_request(_finish_request)


def _start_request() -> None:
    incoming = flask.request.headers.get(CORRELATION_HEADER, "")
    valid = _VALID_CORRELATION_ID.fullmatch(incoming)
    flask.g.correlation_id = incoming if valid else uuid.uuid4().hex
    flask.g.request_started = time.perf_counter()


def _finish_request(response: flask.Response) -> flask.Response:
    correlation_id = current_correlation_id()
    if correlation_id:
        response.headers[CORRELATION_HEADER] = correlation_id
    started = flask.g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 3) if started is not None else None
    access_logger.info(
        "%s %s %s",
        flask.request.method,
        flask.request.path,
        response.status_code,
        extra={
            "method": flask.request.method,
            "path": flask.request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
    return response
