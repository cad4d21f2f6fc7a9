"""Prometheus metrics: per-request counter and latency histogram, the /metrics route (behind
METRICS_TOKEN when set), and get-or-create helpers so any module can define metrics on the one (default)
registry.

Under gunicorn with several workers (`serve`), `share_across_workers()` in the master keeps the
values in PROMETHEUS_MULTIPROC_DIR so /metrics aggregates all workers, and gunicorn's `child_exit`
hook calls `mark_worker_dead(worker.pid)`.
"""

from __future__ import annotations

import functools
import hmac
import http
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import flask
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from shared.errors import Problem

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_lock = threading.Lock()
_defined: dict[str, Any] = {}


def _get_or_create(kind: type[Any], name: str, documentation: str, labelnames: tuple[str, ...], **kwargs: Any) -> Any:
    # Metrics are process-wide but apps are created many times (tests, all-in-one mode);
    # registering the same name twice would raise "Duplicated timeseries".
    with _lock:
        metric = _defined.get(name)
        if metric is None:
            metric = kind(name, documentation, labelnames, **kwargs)
            _defined[name] = metric
        elif type(metric) is not kind or tuple(metric._labelnames) != tuple(labelnames):
            raise ValueError(f"metric {name!r} already defined as {type(metric).__name__}{metric._labelnames}")
        return metric


def counter(name: str, documentation: str, labelnames: tuple[str, ...] = (), **kwargs: Any) -> Counter:
    """The process-wide Counter `name`, created on first use."""
    return _get_or_create(Counter, name, documentation, labelnames, **kwargs)


def histogram(name: str, documentation: str, labelnames: tuple[str, ...] = (), **kwargs: Any) -> Histogram:
    """The process-wide Histogram `name`, created on first use."""
    return _get_or_create(Histogram, name, documentation, labelnames, **kwargs)


def gauge(name: str, documentation: str, labelnames: tuple[str, ...] = (), **kwargs: Any) -> Gauge:
    """The process-wide Gauge `name`, created on first use (pass `multiprocess_mode` for gunicorn)."""
    return _get_or_create(Gauge, name, documentation, labelnames, **kwargs)


#: The HTTP methods a label names; any other method a client sends counts as "other". Every label value
#: taken from a request comes from a closed set: one value per made-up method (or status) would let
#: anybody, unauthenticated, grow every worker's memory and /metrics without bound.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUSES = frozenset(str(status.value) for status in http.HTTPStatus)
OTHER = "other"


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER


def status_label(status: int) -> str:
    """A status code as a label: one the HTTP registry knows, else "other" (an upstream may answer any)."""
    text = str(status)
    return text if text in _STATUSES else OTHER


REQUEST_LABELS = ("api", "method", "endpoint", "status")
requests_total = counter("gateway_http_requests_total", "HTTP requests served", REQUEST_LABELS)
request_duration = histogram("gateway_http_request_duration_seconds", "HTTP request latency", REQUEST_LABELS)


def init_app(app: flask.Flask, api_name: str, *, token: str | None = None) -> None:
    """Count and time every request of `app` under label api=`api_name`, and serve /metrics: to anyone, or
    with `token` (METRICS_TOKEN) only to `Authorization: Bearer <token>` (401 problem otherwise)."""

    def start_timer() -> None:
        flask.g.metrics_started = time.perf_counter()

    def observe(response: flask.Response) -> flask.Response:
        started = flask.g.get("metrics_started")
        rule = flask.request.url_rule
        # The URL rule, not the raw path, keeps label cardinality bounded.
        method, status = method_label(flask.request.method), status_label(response.status_code)
        labels = (api_name, method, rule.rule if rule else "<unmatched>", status)
        requests_total.labels(*labels).inc()
        if started is not None:
            request_duration.labels(*labels).observe(time.perf_counter() - started)
        return response

    app.before_request(start_timer)
    app.after_request(observe)
    app.add_url_rule("/metrics", "metrics", functools.partial(_guarded_metrics, token), methods=["GET"])


def _guarded_metrics(token: str | None) -> flask.Response:
    if token:
        scheme, _, presented = flask.request.headers.get("Authorization", "").partition(" ")
        # compare_digest: how long the comparison takes says nothing about how much of the token matched
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
            raise Problem(
                401,
                "/metrics needs the metrics token: send `Authorization: Bearer <METRICS_TOKEN>`.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    return render_metrics()


def render_metrics() -> flask.Response:
    """Prometheus text exposition of the default registry, or of all workers in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return flask.Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def share_across_workers() -> str | None:
    """For a server about to fork several workers: keep every metric value in
    PROMETHEUS_MULTIPROC_DIR (a new temporary directory unless the operator set one), so that /metrics
    sums all workers whichever answers. Call in the master before it creates any metric value
    (labelled metrics create theirs on first use). The directory it made (remove it at exit), or None."""
    created = None
    if not os.environ.get(MULTIPROC_ENV):
        created = tempfile.mkdtemp(prefix="inventory-gateway-metrics-")
        os.environ[MULTIPROC_ENV] = created
    else:  # the operator's: values left by an earlier run would be summed in (prometheus_client's advice)
        for stale in Path(os.environ[MULTIPROC_ENV]).glob("*.db"):
            stale.unlink(missing_ok=True)
    # prometheus_client chose where values live when it was imported, before the variable was set.
    values.ValueClass = values.get_value_class()
    return created


def mark_worker_dead(pid: int) -> None:
    """For gunicorn's `child_exit` hook: drop a dead worker's live-gauge files."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)
