"""The OData v2 client of SAP S/4HANA: reads material documents and stock, speaks SAP's protocol.

Basic auth; a CSRF token fetched on a GET (`X-CSRF-Token: Fetch`) and kept with the session
cookie, fetched again once when SAP answers 403 `X-CSRF-Token: Required`; full paging
(`__next`, else `$skip`/`$top` against `$inlinecount`); connect/read timeouts; bounded retries
on 5xx and timeouts for reads only; a circuit breaker; SAP error bodies
(`{"error": {"code", "message": {"value"}}}`) turned into problem+json 502/503 with SAP's message.

It is not the tier client: that one speaks the gateway's own problem+json contract, this one
SAP's. Both share the transport (in-process WSGI or HTTP), the timeouts and the metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, tzinfo
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import requests
import tenacity

from shared import metrics
from shared.errors import Problem
from shared.logging import CORRELATION_HEADER, current_correlation_id
from shared.tier_client import (
    IN_PROCESS_BASE,
    UPSTREAM_CALLS,
    CircuitBreaker,
    CircuitOpen,
    Timeouts,
    UpstreamUnavailable,
    circuit_open_problem,
    session_for,
)

logger = logging.getLogger(__name__)

CSRF_HEADER = "X-CSRF-Token"
READ_METHODS = frozenset({"GET", "HEAD"})
MAX_PAGES = 100_000
ODATA_SAFE = "$'(),"


class _SapServerError(UpstreamUnavailable):
    """SAP answered 5xx: worth a retry, and its message is kept for the final problem."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"answered {response.status_code}", response.headers.get("Retry-After"))
        self.response = response


@dataclass(frozen=True)
class Page:
    records: list[dict]
    #: $inlinecount of the whole collection, when SAP gave it.
    total: int | None


def sap_message(response: requests.Response) -> tuple[str | None, str]:
    """(code, message) of an SAP error body; the start of the body when it is not SAP's JSON."""
    try:
        error = response.json().get("error") or {}
        message = error.get("message")
        text = message.get("value") if isinstance(message, dict) else message
        if text:
            return error.get("code"), str(text)
    except (ValueError, AttributeError):
        pass
    snippet = (response.text or "").strip()[:200]
    return None, snippet or f"HTTP {response.status_code}"


class SapODataClient:
    """One SAP system, reached over HTTP (`base_url`, the OData root `…/sap/opu/odata/sap`) or as an
    in-process WSGI app (`app`, e.g. the simulator; then `root` is its OData root path). `time_zone` is
    the system's own: its documents' local dates and times are read in it (SAP_TIME_ZONE)."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        app=None,
        root: str = "/sap/opu/odata/sap",
        user: str | None = None,
        password: str | None = None,
        timeouts: Timeouts = Timeouts(),
        attempts: int = 3,
        breaker_fail_max: int = 5,
        breaker_reset_seconds: float = 30,
        page_size: int = 1000,
        name: str = "sap",
        time_zone: tzinfo = UTC,
    ) -> None:
        if (base_url is None) == (app is None):
            raise ValueError("give a base_url (SAP over HTTP) or an app (in-process), not both")
        self.name = name
        self.time_zone = time_zone
        self.session = session_for(base_url, app)
        self.in_process = app is not None
        if app is not None:
            base_url = IN_PROCESS_BASE + root
        assert base_url is not None  # given when app is not (checked above)
        self.base_url = base_url.rstrip("/")
        if user:
            self.session.auth = (user, password or "")
        self.session.headers["Accept"] = "application/json"
        self.timeouts = timeouts
        self.attempts = attempts
        self.page_size = page_size
        self.breaker = CircuitBreaker(breaker_fail_max, breaker_reset_seconds)
        self._csrf_token: str | None = None

    # -- reads ------------------------------------------------------------------------------
    def get(self, path: str, params: dict | None = None) -> dict:
        """GET `path` (below the OData root) with `$format=json`; the `d` member of the answer."""
        response = self.request("GET", self.url(path, params))
        return self._body(response).get("d") or {}

    def pages(self, path: str, params: dict | None = None) -> Iterator[Page]:
        """Every page of an entity set: SAP's `__next` links, else `$skip` until `$inlinecount`."""
        params = {"$top": self.page_size, "$skip": 0, "$inlinecount": "allpages", **(params or {})}
        url = self.url(path, params)
        seen, read = set(), 0
        for _ in range(MAX_PAGES):
            seen.add(url)
            d = self._body(self.request("GET", url)).get("d") or {}
            records = d.get("results", []) if isinstance(d, dict) else d
            total = _count(d)
            read += len(records)
            yield Page(records, total)
            next_link = d.get("__next") if isinstance(d, dict) else None
            if next_link:
                url = self._rebase(next_link, url)
            elif records and len(records) >= int(params["$top"]) and (total is None or read < total):
                params = {**params, "$skip": int(params["$skip"]) + len(records)}
                url = self.url(path, params)
            else:
                return
            if url in seen:
                raise Problem(
                    502,
                    f"{self.name} repeated a page link ({url}); paging stopped",
                    type_slug="sap-bad-answer",
                    upstream=self.name,
                )
        raise Problem(
            502, f"{self.name} kept paging past {MAX_PAGES} pages", type_slug="sap-bad-answer", upstream=self.name
        )

    def url(self, path: str, params: dict | None = None) -> str:
        query = {"$format": "json", **(params or {})}
        # OData wants %20, not "+", for spaces, and reads $ ' ( ) , literally.
        return f"{self.base_url}/{path.lstrip('/')}?" + urlencode(query, quote_via=quote, safe=ODATA_SAFE)

    # -- any request ------------------------------------------------------------------------
    def request(self, method: str, url: str, *, json=None) -> requests.Response:
        """One request (GETs retried on 5xx/timeouts); a CSRF token for writes; errors as Problems."""
        method = method.upper()
        if method not in READ_METHODS and self._csrf_token is None:
            self._fetch_csrf_token(url)
        response = self._guarded(method, url, json)
        if response.status_code == 403 and response.headers.get(CSRF_HEADER, "").lower() == "required":
            # Tokens expire with SAP's session: fetch a new one, once.
            self._csrf_token = None
            self._fetch_csrf_token(url)
            response = self._guarded(method, url, json)
        if response.status_code >= 400:
            raise self._problem(response)
        return response

    def _fetch_csrf_token(self, url: str) -> None:
        """GET the service document of the service `url` belongs to, asking for a token."""
        below_root = urlsplit(url).path[len(urlsplit(self.base_url).path) :].strip("/")
        self._guarded("GET", self.url(below_root.split("/", 1)[0] + "/"), None, fetch_token=True)

    def _guarded(self, method: str, url: str, json, fetch_token: bool = False) -> requests.Response:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts if method in READ_METHODS else 1),
            wait=tenacity.wait_random_exponential(multiplier=0.05, max=1.0),
            retry=tenacity.retry_if_exception_type(UpstreamUnavailable),
            reraise=True,
        )
        try:
            response = retrying(self.breaker.call, self._send, method, url, json, fetch_token)
        except CircuitOpen:
            raise circuit_open_problem(self.name, self.breaker) from None
        except _SapServerError as error:
            UPSTREAM_CALLS.labels(self.name, metrics.status_label(error.response.status_code)).inc()
            raise self._problem(error.response) from error
        except UpstreamUnavailable as error:
            UPSTREAM_CALLS.labels(self.name, "unavailable").inc()
            raise Problem(
                503,
                f"{self.name} is unavailable: {error}",
                type_slug="upstream-unavailable",
                headers={"Retry-After": error.retry_after or "1"},
                upstream=self.name,
            ) from error
        UPSTREAM_CALLS.labels(self.name, metrics.status_label(response.status_code)).inc()
        return response

    def _send(self, method: str, url: str, json, fetch_token: bool) -> requests.Response:
        headers = {CORRELATION_HEADER: current_correlation_id() or ""}
        if fetch_token or self._csrf_token is None:
            headers[CSRF_HEADER] = "Fetch"
        elif method not in READ_METHODS:
            headers[CSRF_HEADER] = self._csrf_token
        try:
            response = self.session.request(
                method, url, json=json, headers=headers, timeout=(self.timeouts.connect, self.timeouts.read)
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise UpstreamUnavailable(type(error).__name__) from error
        self._remember_session(response)
        if response.status_code >= 500:
            raise _SapServerError(response)
        return response

    def _remember_session(self, response: requests.Response) -> None:
        token = response.headers.get(CSRF_HEADER)
        if token and token.lower() not in ("required", "fetch") and response.status_code < 400:
            self._csrf_token = token
        # Over HTTP requests keeps cookies itself; the in-process transport has no cookie jar.
        if self.in_process and "Set-Cookie" in response.headers:
            for name, morsel in SimpleCookie(response.headers["Set-Cookie"]).items():
                self.session.cookies.set(name, morsel.value)

    def _rebase(self, link: str, current: str) -> str:
        """SAP's `__next` link, reached the way this client reaches SAP (absolute links may name
        SAP's own host, which a proxy or the in-process transport does not answer to)."""
        parts = urlsplit(urljoin(current, link))
        base = urlsplit(self.base_url)
        return f"{base.scheme}://{base.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def _body(self, response: requests.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            raise Problem(
                502,
                f"{self.name} answered {response.status_code} with a body that is not JSON",
                type_slug="sap-bad-answer",
                upstream=self.name,
            ) from None
        if not isinstance(body, dict):
            raise Problem(
                502,
                f"{self.name} answered with JSON that is not an OData object",
                type_slug="sap-bad-answer",
                upstream=self.name,
            )
        return body

    def _problem(self, response: requests.Response) -> Problem:
        """SAP's error as problem+json: 404 stays 404; 503/504 → 503 (retry); anything else → 502."""
        code, message = sap_message(response)
        status = response.status_code
        extensions: dict[str, Any] = {"upstream": self.name, "upstream_status": status, "sap_code": code}
        if status == 404:
            return Problem(404, f"{self.name}: {message}", type_slug="sap-not-found", **extensions)
        if status in (503, 504):
            return Problem(
                503,
                f"{self.name} is unavailable: {message}",
                type_slug="upstream-unavailable",
                headers={"Retry-After": response.headers.get("Retry-After") or "1"},
                **extensions,
            )
        return Problem(502, f"{self.name} answered {status}: {message}", type_slug="sap-error", **extensions)

    def close(self) -> None:
        self.session.close()


def _count(d) -> int | None:
    if isinstance(d, dict) and d.get("__count") not in (None, ""):
        try:
            return int(d["__count"])
        except (TypeError, ValueError):
            return None
    return None
