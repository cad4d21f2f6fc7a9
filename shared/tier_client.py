"""The one client every tier uses to call the tier below through its REST contract.

A requests.Session with connect and read timeouts; bounded tenacity retries, only for
idempotent methods or requests that carry an Idempotency-Key; a circuit breaker per upstream
(pybreaker); X-Correlation-ID and W3C traceparent propagation; an upstream's problem+json
passed up with context. In the all-in-one shape the transport calls the target WSGI app
in-process (no socket), keeping method, path, headers and JSON exactly as over HTTP.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import flask
import pybreaker
import requests
import tenacity
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client

from shared import metrics
from shared.errors import Problem
from shared.logging import CORRELATION_HEADER, current_correlation_id

IN_PROCESS_BASE = "http://in-process"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

UPSTREAM_CALLS = metrics.counter("gateway_upstream_calls_total", "Calls to a lower tier", ("upstream", "outcome"))


class UpstreamUnavailable(Exception):
    """The upstream did not answer usefully (connection, timeout, 502/503/504): worth a retry."""

    def __init__(self, detail: str, retry_after: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class WSGITransport(BaseAdapter):
    """A requests transport that hands the request to a WSGI app in this process."""

    def __init__(self, app) -> None:
        super().__init__()
        self._client = Client(app, use_cookies=False)

    def send(self, request, **_):
        url = urlsplit(request.url)
        answer = self._client.open(path=url.path, query_string=url.query, method=request.method,
                                   headers=list(request.headers.items()), data=request.body or b"")
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.get_data()
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self) -> None:
        pass


def _traceparent() -> str:
    """Continue the caller's trace with a new span, or start one."""
    incoming = flask.request.headers.get("traceparent", "") if flask.has_request_context() else ""
    match = _TRACEPARENT.match(incoming)
    trace_id = match.group(1) if match else os.urandom(16).hex()
    flags = match.group(3) if match else "01"
    return f"00-{trace_id}-{os.urandom(8).hex()}-{flags}"


@dataclass(frozen=True)
class Timeouts:
    connect: float = 2.0
    read: float = 10.0


class TierClient:
    def __init__(self, name: str, base_url: str | None = None, *, app=None, timeouts: Timeouts = Timeouts(),
                 attempts: int = 3, breaker_fail_max: int = 5, breaker_reset_seconds: float = 30) -> None:
        if (base_url is None) == (app is None):
            raise ValueError("give a base_url (split shape) or an app (all-in-one), not both")
        self.name = name
        self.session = requests.Session()
        if app is not None:
            self.session.mount(IN_PROCESS_BASE, WSGITransport(app))
            base_url = IN_PROCESS_BASE
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts
        self.attempts = attempts
        self.breaker = pybreaker.CircuitBreaker(fail_max=breaker_fail_max, reset_timeout=breaker_reset_seconds, name=name)

    def request(self, method: str, path: str, *, json=None, params=None, headers: dict | None = None,
                idempotency_key: str | None = None) -> requests.Response:
        """Send one request; a 4xx/5xx answer or an unreachable upstream raises a Problem."""
        method = method.upper()
        sent_headers = {CORRELATION_HEADER: current_correlation_id() or "", "traceparent": _traceparent(), **(headers or {})}
        if idempotency_key:
            sent_headers["Idempotency-Key"] = idempotency_key
        retryable = method in IDEMPOTENT_METHODS or bool(idempotency_key)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts if retryable else 1),
            wait=tenacity.wait_random_exponential(multiplier=0.05, max=1.0),
            retry=tenacity.retry_if_exception_type(UpstreamUnavailable),
            reraise=True,
        )
        try:
            response = retrying(self.breaker.call, self._send, method, path, json, params, sent_headers)
        except pybreaker.CircuitBreakerError:
            UPSTREAM_CALLS.labels(self.name, "circuit_open").inc()
            raise Problem(503, f"{self.name} is unavailable (circuit open); retry later",
                          type_slug="upstream-unavailable", headers={"Retry-After": str(int(self.breaker.reset_timeout))},
                          upstream=self.name)
        except UpstreamUnavailable as error:
            UPSTREAM_CALLS.labels(self.name, "unavailable").inc()
            raise Problem(503, f"{self.name} is unavailable: {error}", type_slug="upstream-unavailable",
                          headers={"Retry-After": error.retry_after or "1"}, upstream=self.name)
        UPSTREAM_CALLS.labels(self.name, str(response.status_code)).inc()
        if response.status_code >= 400:
            raise _upstream_problem(self.name, response)
        return response

    def _send(self, method, path, json, params, headers) -> requests.Response:
        try:
            response = self.session.request(method, f"{self.base_url}{path}", json=json, params=params,
                                            headers=headers, timeout=(self.timeouts.connect, self.timeouts.read))
        except (requests.ConnectionError, requests.Timeout) as error:
            raise UpstreamUnavailable(type(error).__name__) from error
        if response.status_code in (502, 503, 504):
            raise UpstreamUnavailable(f"answered {response.status_code}", response.headers.get("Retry-After"))
        return response

    def close(self) -> None:
        self.session.close()


def _upstream_problem(name: str, response: requests.Response) -> Problem:
    """The upstream's own problem, passed up: a 4xx keeps its status, anything else becomes 502."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = response.status_code if response.status_code < 500 else 502
    extensions = {key: value for key, value in body.items() if key not in ("type", "title", "status", "detail")}
    detail = body.get("detail") or f"{name} answered {response.status_code}"
    problem = Problem(status, detail, title=body.get("title"), upstream=name, upstream_status=response.status_code,
                      **extensions)
    if status < 500 and isinstance(body.get("type"), str):
        problem.type = body["type"]
    return problem
