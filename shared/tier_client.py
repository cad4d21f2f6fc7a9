"""The one client every tier uses to call the tier below through its REST contract.

A requests.Session with connect and read timeouts; bounded tenacity retries, only for
idempotent methods or requests that carry an Idempotency-Key; a circuit breaker per upstream;
X-Correlation-ID and W3C traceparent propagation; an upstream's problem+json
passed up with context. A 503's Retry-After is honoured: the retry waits at least that long, and
a Retry-After longer than the client's own back-off budget is not waited for here but passed up. In
the all-in-one shape the transport calls the target WSGI app in-process (no socket), keeping method,
path, headers and JSON exactly as over HTTP.
"""

from __future__ import annotations

import io
import json as jsonlib
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote_to_bytes, urlencode, urlsplit

import flask
import requests
import tenacity
from requests.adapters import BaseAdapter
from requests.auth import _basic_auth_str
from requests.structures import CaseInsensitiveDict

from shared import metrics
from shared.auth import tier_auth_headers
from shared.errors import Problem
from shared.logging import CORRELATION_HEADER, current_correlation_id

IN_PROCESS_BASE = "http://in-process"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

UPSTREAM_CALLS = metrics.counter("gateway_upstream_calls_total", "Calls to a lower tier", ("upstream", "outcome"))


def retry_after_seconds(value: str | None) -> float | None:
    """The seconds a Retry-After header asks for (delta-seconds or an HTTP date, RFC 9110 §10.2.3);
    None when absent or unreadable. The one reader of the header in the gateway."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def retry_after_header(value: str | None, default: float = 1) -> str:
    """A Retry-After to pass on: the upstream's as whole seconds (at least 1), else `default`."""
    seconds = retry_after_seconds(value)
    return str(max(1, round(seconds if seconds is not None else default)))


class UpstreamUnavailable(Exception):
    """The upstream did not answer usefully (connection, timeout, 502/503/504): worth a retry."""

    def __init__(self, detail: str, retry_after: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class CircuitOpen(Exception):
    """The breaker is open: the upstream was not called."""


class CircuitBreaker:
    """Closed until `fail_max` calls in a row fail; then open (every call refused) for
    `reset_timeout` seconds; then half-open: one trial call, whose success closes the breaker and
    whose failure opens it again. Any exception the call raises counts as a failure.

    The lock guards only the state, never the call itself: pybreaker's `call` holds its lock while
    the call runs (danielfm/pybreaker#55), which serialises every request through one client, so
    concurrent webhook deliveries or channel reads would queue behind each other's I/O.
    """

    def __init__(self, fail_max: int = 5, reset_timeout: float = 30, *, clock: Callable[[], float] = time.monotonic):
        self.fail_max, self.reset_timeout, self._clock = fail_max, reset_timeout, clock
        self._lock = threading.Lock()
        self._state, self._failures, self._opened_at, self._trial_running = "closed", 0, 0.0, False

    @property
    def current_state(self) -> str:
        with self._lock:
            if self._state == "open" and self._clock() - self._opened_at >= self.reset_timeout:
                return "half_open"
            return self._state

    def call(self, func, *args, **kwargs):
        trial = self._admit()
        try:
            result = func(*args, **kwargs)
        except Exception:
            self._record(False, trial)
            raise
        self._record(True, trial)
        return result

    def _admit(self) -> bool:
        """Whether this call is the half-open trial; raises CircuitOpen when it may not run."""
        with self._lock:
            if self._state == "open":
                if self._clock() - self._opened_at < self.reset_timeout:
                    raise CircuitOpen
                self._state = "half_open"
            if self._state == "half_open":
                if self._trial_running:
                    raise CircuitOpen
                self._trial_running = True
                return True
            return False

    def _record(self, ok: bool, trial: bool) -> None:
        with self._lock:
            if trial:
                self._trial_running = False
                if ok:
                    self._state, self._failures = "closed", 0
                else:
                    self._open()
            elif self._state == "closed":  # calls admitted before the breaker opened do not move it
                self._failures = 0 if ok else self._failures + 1
                if self._failures >= self.fail_max:
                    self._open()

    def _open(self) -> None:
        self._state, self._opened_at, self._failures = "open", self._clock(), 0


def circuit_open_problem(name: str, breaker: CircuitBreaker) -> Problem:
    """The 503 every client of an upstream answers while its breaker is open (the call not made)."""
    UPSTREAM_CALLS.labels(name, "circuit_open").inc()
    return Problem(
        503,
        f"{name} is unavailable (circuit open); retry later",
        type_slug="upstream-unavailable",
        headers={"Retry-After": str(int(breaker.reset_timeout))},
        upstream=name,
    )


class WSGITransport(BaseAdapter):
    """A requests transport that hands the request to a WSGI app in this process.

    It builds the WSGI environ itself (PEP 3333) rather than through werkzeug's test client: the
    all-in-one gateway makes several such calls per SAP movement, and the test client's request
    building costs more than the rest of the transport together."""

    def __init__(self, app) -> None:
        super().__init__()
        self.app = app

    def send(self, request, *_, **__):  # stream, timeout, verify, cert, proxies: nothing to do in-process
        return self.call(request.method, request.url, request.headers.items(), request.body, request=request)

    def call(self, method: str, url: str, headers, body=b"", *, request=None) -> requests.Response:
        """Run the app on one request (`url` absolute, its host ignored); the answer as requests'."""
        parts = urlsplit(url)
        if isinstance(body, str):
            body = body.encode()
        body = body or b""
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("latin-1"),
            "QUERY_STRING": parts.query,
            "SERVER_NAME": parts.hostname or "localhost",
            "SERVER_PORT": str(parts.port or 80),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": parts.netloc,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": parts.scheme or "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers:
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
        started: list = []
        chunks = self.app(environ, lambda status, header_list, exc_info=None: started.extend((status, header_list)))
        try:
            content = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, header_list = started
        answer_headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        for name, value in header_list:  # repeated headers are joined, as urllib3 does over HTTP
            answer_headers[name] = f"{answer_headers[name]}, {value}" if name in answer_headers else value
        response = requests.Response()
        response.status_code, response.reason = int(status[:3]), status[4:]
        response.headers, response._content = answer_headers, content
        response.url, response.request, response.encoding = url, request, "utf-8"
        return response

    def close(self) -> None:
        pass


def session_for(base_url: str | None, app=None) -> requests.Session:
    """The session a client calls its upstream with: in-process through `app`, or over HTTP to
    `base_url` with the environment's proxy and CA settings (HTTPS_PROXY, NO_PROXY,
    REQUESTS_CA_BUNDLE...) read once, now, for that URL. requests would otherwise scan the whole
    environment on every request, a good share of the cost of a small call."""
    if app is not None:
        return InProcessSession(app)
    assert base_url is not None, "a session over HTTP needs the upstream's base_url"
    session = requests.Session()
    found = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies, session.verify, session.trust_env = found["proxies"], found["verify"], False
    return session


class InProcessSession(requests.Session):
    """A requests.Session whose requests to IN_PROCESS_BASE run a WSGI app in this process.

    Such a request skips requests' preparation (cookie-jar policy, proxy and .netrc lookup, URL
    re-quoting, hooks), which costs more than the in-process call itself; what reaches the app is
    the same: method, path, query, the session's and the call's headers, Basic auth, the session's
    cookies, the JSON or bytes body. Any other URL, or an argument this path does not handle, goes
    through requests as usual."""

    def __init__(self, app) -> None:
        super().__init__()
        self.transport = WSGITransport(app)
        self.mount(IN_PROCESS_BASE, self.transport)

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        cookies=None,
        files=None,
        auth=None,
        timeout=None,
        allow_redirects=True,
        proxies=None,
        hooks=None,
        stream=None,
        verify=None,
        cert=None,
        json=None,
    ):
        unusual = cookies or files or proxies or hooks or stream or cert or (data is not None and json is not None)
        if unusual or not url.startswith(IN_PROCESS_BASE + "/") or not isinstance(data, (bytes, str, type(None))):
            return super().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                cookies=cookies,
                files=files,
                auth=auth,
                timeout=timeout,
                allow_redirects=allow_redirects,
                proxies=proxies,
                hooks=hooks,
                stream=stream,
                verify=verify,
                cert=cert,
                json=json,
            )
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        sent = CaseInsensitiveDict(self.headers)
        sent.update(headers or {})
        body = data
        if json is not None:
            body = jsonlib.dumps(json, allow_nan=False).encode()
            sent.setdefault("Content-Type", "application/json")
        auth = auth if auth is not None else self.auth
        if isinstance(auth, tuple) and len(auth) == 2:
            sent["Authorization"] = _basic_auth_str(*auth)
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)
        return self.transport.call(method.upper(), url, [(k, v) for k, v in sent.items() if v is not None], body)


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

    @classmethod
    def from_settings(cls, settings) -> Timeouts:
        """UPSTREAM_CONNECT_TIMEOUT_SECONDS and UPSTREAM_READ_TIMEOUT_SECONDS."""
        return cls(settings.upstream_connect_timeout_seconds, settings.upstream_read_timeout_seconds)


def tier_options(settings) -> dict:
    """The TierClient keyword arguments the UPSTREAM_* settings configure: timeouts, attempts, breaker."""
    return {
        "timeouts": Timeouts.from_settings(settings),
        "attempts": settings.upstream_attempts,
        "breaker_fail_max": settings.upstream_breaker_failures,
        "breaker_reset_seconds": settings.upstream_breaker_reset_seconds,
    }


#: Longest wait between two attempts, the back-off's own cap included: a longer Retry-After is the caller's.
MAX_RETRY_WAIT_SECONDS = 2.0


class TierClient:
    def __init__(
        self,
        name: str,
        base_url: str | None = None,
        *,
        app=None,
        timeouts: Timeouts = Timeouts(),
        attempts: int = 3,
        breaker_fail_max: int = 5,
        breaker_reset_seconds: float = 30,
        max_retry_wait: float = MAX_RETRY_WAIT_SECONDS,
        api_key: str | None = None,
    ) -> None:
        """`api_key` is sent as a Bearer token with every call (the upstream's credential check)."""
        if (base_url is None) == (app is None):
            raise ValueError("give a base_url (split shape) or an app (all-in-one), not both")
        self.name = name
        self.session = session_for(base_url, app)
        if api_key:
            self.session.headers.update(tier_auth_headers(api_key))
        if app is not None:
            base_url = IN_PROCESS_BASE
        assert base_url is not None  # given when app is not (checked above)
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts
        self.attempts = attempts
        self.max_retry_wait = max_retry_wait
        self.breaker = CircuitBreaker(breaker_fail_max, breaker_reset_seconds)

    def request(
        self,
        method: str,
        path: str,
        *,
        json=None,
        params=None,
        headers: dict | None = None,
        idempotency_key: str | None = None,
    ) -> requests.Response:
        """Send one request; a 4xx/5xx answer or an unreachable upstream raises a Problem."""
        method = method.upper()
        sent_headers = {
            CORRELATION_HEADER: current_correlation_id() or "",
            "traceparent": _traceparent(),
            **(headers or {}),
        }
        if idempotency_key:
            sent_headers["Idempotency-Key"] = idempotency_key
        retryable = method in IDEMPOTENT_METHODS or bool(idempotency_key)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts if retryable else 1)
            | retry_after_longer_than(self.max_retry_wait),
            wait=at_least_retry_after(tenacity.wait_random_exponential(multiplier=0.05, max=1.0)),
            retry=tenacity.retry_if_exception_type(UpstreamUnavailable),
            reraise=True,
        )
        try:
            response = retrying(self.breaker.call, self._send, method, path, json, params, sent_headers)
        except CircuitOpen:
            raise circuit_open_problem(self.name, self.breaker) from None
        except UpstreamUnavailable as error:
            UPSTREAM_CALLS.labels(self.name, "unavailable").inc()
            raise Problem(
                503,
                f"{self.name} is unavailable: {error}",
                type_slug="upstream-unavailable",
                headers={"Retry-After": retry_after_header(error.retry_after)},
                upstream=self.name,
            ) from error
        UPSTREAM_CALLS.labels(self.name, metrics.status_label(response.status_code)).inc()
        if response.status_code >= 400:
            raise _upstream_problem(self.name, response)
        return response

    def _send(self, method, path, json, params, headers) -> requests.Response:
        try:
            response = self.session.request(
                method,
                f"{self.base_url}{path}",
                json=json,
                params=params,
                headers=headers,
                timeout=(self.timeouts.connect, self.timeouts.read),
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise UpstreamUnavailable(type(error).__name__) from error
        if response.status_code in (502, 503, 504):
            raise UpstreamUnavailable(f"answered {response.status_code}", response.headers.get("Retry-After"))
        return response

    def close(self) -> None:
        self.session.close()


def _retry_after_of(retry_state: tenacity.RetryCallState) -> float | None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    return retry_after_seconds(getattr(error, "retry_after", None))


def at_least_retry_after(backoff):
    """Tenacity wait: the back-off, or the upstream's Retry-After when that is longer."""

    def wait(retry_state: tenacity.RetryCallState) -> float:
        return max(backoff(retry_state), _retry_after_of(retry_state) or 0.0)

    return wait


def retry_after_longer_than(seconds: float):
    """Tenacity stop: an upstream asking for a longer pause than `seconds` (e.g. Salesforce's daily
    limit spent: 600 s) is not called again now; its 503 and Retry-After go to the caller."""

    def stop(retry_state: tenacity.RetryCallState) -> bool:
        asked = _retry_after_of(retry_state)
        return asked is not None and asked > seconds

    return stop


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
    problem = Problem(
        status, detail, title=body.get("title"), upstream=name, upstream_status=response.status_code, **extensions
    )
    if status < 500 and isinstance(body.get("type"), str):
        problem.type = body["type"]
    return problem
