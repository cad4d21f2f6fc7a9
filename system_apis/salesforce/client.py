"""The REST client of one Salesforce org: the OAuth session, sObject Collections writes, and how
Salesforce's failures become problem+json.

- Every request carries the cached access token; a 401 INVALID_SESSION_ID refreshes it once
  and repeats the request.
- 429 and 503 (Salesforce refused the request, nothing was written), connect failures and 502/504
  are retried a bounded number of times with exponential backoff, waiting what Retry-After asks
  when it asks for no more than `max_retry_wait` seconds; a longer wait is left to the caller (503
  with that Retry-After). Upserts are also retried after a read timeout: they are idempotent by
  external id. A Platform Event publish is not: after a read timeout or a dropped connection the
  events may have been published, so it is not repeated here, and the 503 tells the caller so.
- A circuit breaker stops calling an org that keeps failing.
- `Sforce-Limit-Info` is read on every answer (see limits.py); 403 REQUEST_LIMIT_EXCEEDED (the
  daily allowance is spent) becomes a 503 with Retry-After.
- Salesforce errors (`[{"message", "errorCode", "fields"}]`) become a 502 problem with its message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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
    at_least_retry_after,
    circuit_open_problem,
    retry_after_header,
    retry_after_longer_than,
    session_for,
)

from .auth import TOKEN_PATH, AccessToken, ClientCredentials, JwtBearer, TokenCache, TokenRequestError, Unconfigured
from .limits import LIMIT_HEADER, UsageMonitor

logger = logging.getLogger(__name__)

COLLECTION_SIZE = 200
#: How long the caller should wait when the org's daily API allowance is spent; Salesforce counts
#: over a rolling 24 hours, so there is no exact moment to name.
LIMIT_EXHAUSTED_RETRY_AFTER = "600"


@dataclass
class CallMeter:
    """What a piece of work cost in REST requests to Salesforce (retries and repeats included)."""

    calls: int = 0


class _Refused(UpstreamUnavailable):
    """429/503: Salesforce did not take the request; it may be sent again."""


class _MaybeApplied(UpstreamUnavailable):
    """No answer to a request that is not safe to repeat: it may or may not have been applied."""


def salesforce_errors(response: requests.Response) -> list[dict]:
    """Salesforce's error array (`[{"message", "errorCode", "fields"}]`) of an answer, normalised."""
    try:
        body = response.json()
    except ValueError:
        body = None
    items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    errors = [
        {
            "errorCode": str(item.get("errorCode") or item.get("statusCode") or item.get("error") or "UNKNOWN"),
            "message": str(item.get("message") or item.get("error_description") or ""),
            "fields": item.get("fields") or [],
        }
        for item in items
        if isinstance(item, dict)
    ]
    return errors or [
        {"errorCode": f"HTTP_{response.status_code}", "message": (response.text or "").strip()[:200], "fields": []}
    ]


class SalesforceClient:
    """One org, reached over HTTP (`base_url`, the login / My Domain URL) or as an in-process WSGI
    app (`app`, e.g. the simulator)."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        app=None,
        flow: ClientCredentials | JwtBearer | Unconfigured,
        api_version: str = "62.0",
        usage: UsageMonitor,
        timeouts: Timeouts = Timeouts(),
        attempts: int = 3,
        max_retry_wait: float = 5.0,
        backoff: float = 0.05,
        breaker_fail_max: int = 5,
        breaker_reset_seconds: float = 30,
        name: str = "salesforce",
    ) -> None:
        if (base_url is None) == (app is None):
            raise ValueError("give a base_url (Salesforce over HTTP) or an app (in-process), not both")
        self.name = name
        self.in_process = app is not None
        self.session = session_for(base_url, app)
        self.login_url = (base_url or IN_PROCESS_BASE).rstrip("/")
        self.flow, self.api_version, self.usage = flow, api_version, usage
        self.timeouts, self.attempts, self.max_retry_wait, self.backoff = timeouts, attempts, max_retry_wait, backoff
        self.breaker = CircuitBreaker(breaker_fail_max, breaker_reset_seconds)
        self.tokens = TokenCache(self._fetch_token)

    # -- writes ------------------------------------------------------------------------------
    def upsert(self, sobject: str, external_id_field: str, records: list[dict], meter: CallMeter) -> list[dict]:
        """Upsert by external id through sObject Collections, ≤ 200 records a request, each record on
        its own (allOrNone false). One result per record, in order:
        {"success", "id", "errors": [{"errorCode", "message", "fields"}]}."""
        return self._collections(
            "PATCH", f"composite/sobjects/{sobject}/{external_id_field}", sobject, records, meter, replay_safe=True
        )

    def publish(self, event_type: str, events: list[dict], meter: CallMeter) -> list[dict]:
        """Publish Platform Events through sObject Collections, ≤ 200 a request: one API call per 200
        events instead of one per event, which is what the daily allowance is counted in."""
        return self._collections("POST", "composite/sobjects", event_type, events, meter, replay_safe=False)

    def _collections(
        self, method: str, path: str, sobject: str, records: list[dict], meter: CallMeter, *, replay_safe: bool
    ) -> list[dict]:
        outcomes: list[dict] = []
        for start in range(0, len(records), COLLECTION_SIZE):
            chunk = [{"attributes": {"type": sobject}, **record} for record in records[start : start + COLLECTION_SIZE]]
            response = self.request(
                method, path, {"allOrNone": False, "records": chunk}, meter, replay_safe=replay_safe
            )
            try:
                results = response.json()
            except ValueError:
                results = None
            if not isinstance(results, list) or len(results) != len(chunk):
                raise Problem(
                    502,
                    f"{self.name} answered {len(results) if isinstance(results, list) else 'no'} "
                    f"results for {len(chunk)} records",
                    type_slug="salesforce-bad-answer",
                    upstream=self.name,
                )
            for result in (item if isinstance(item, dict) else {} for item in results):
                success = bool(result.get("success"))
                # A published event's result lists OPERATION_ENQUEUED under errors: only failures have errors.
                outcomes.append(
                    {
                        "success": success,
                        "id": result.get("id"),
                        "errors": [] if success else salesforce_errors_of(result),
                    }
                )
        return outcomes

    # -- any REST request --------------------------------------------------------------------
    def rest_url(self, token: AccessToken, path: str) -> str:
        instance = token.instance_url.rstrip("/")
        if self.in_process:  # the simulator names its own host, which the in-process transport ignores
            instance = IN_PROCESS_BASE + urlsplit(instance).path.rstrip("/")
        return f"{instance}/services/data/v{self.api_version}/{path.lstrip('/')}"

    def request(self, method: str, path: str, json, meter: CallMeter, *, replay_safe: bool) -> requests.Response:
        """One REST request below /services/data/vXX.X/; errors raised as Problems."""
        token = self._token()
        response = self._guarded(method, path, json, token, meter, replay_safe)
        if response.status_code == 401 and self._error_code(response) == "INVALID_SESSION_ID":
            logger.info("Salesforce session expired; fetching a new access token")
            token = self._token(rejected=token)
            response = self._guarded(method, path, json, token, meter, replay_safe)
        if response.status_code >= 400:
            raise self._problem(response)
        return response

    def _token(self, rejected: AccessToken | None = None) -> AccessToken:
        try:
            return self.tokens.refresh(rejected) if rejected else self.tokens.current()
        except TokenRequestError as error:
            raise Problem(
                502,
                f"{self.name} refused to issue an access token: {error}",
                type_slug="salesforce-auth-failed",
                upstream=self.name,
                upstream_status=error.status,
                salesforce_error=error.error,
            ) from None

    def _retrying(self) -> tenacity.Retrying:
        retryable = tenacity.retry_if_exception_type(UpstreamUnavailable) & tenacity.retry_if_not_exception_type(
            _MaybeApplied
        )
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts) | retry_after_longer_than(self.max_retry_wait),
            wait=at_least_retry_after(tenacity.wait_random_exponential(multiplier=self.backoff, max=1.0)),
            retry=retryable,
            reraise=True,
        )

    def _guarded(self, method, path, json, token, meter, replay_safe) -> requests.Response:
        return self._call(self._send, method, self.rest_url(token, path), json, token, meter, replay_safe)

    def _call(self, send, *args) -> requests.Response:
        """`send(*args)` through the breaker, retried as _retrying says; no useful answer → a 503 Problem."""
        try:
            response = self._retrying()(self.breaker.call, send, *args)
        except CircuitOpen:
            raise circuit_open_problem(self.name, self.breaker) from None
        except _MaybeApplied as error:
            UPSTREAM_CALLS.labels(self.name, "no_answer").inc()
            raise Problem(
                503,
                f"{self.name} did not answer ({error}); the request may have been applied. Send the "
                "batch again: each event carries absolute quantities and As_Of__c, so a repeat is harmless",
                type_slug="upstream-unavailable",
                headers={"Retry-After": "1"},
                upstream=self.name,
            ) from None
        except UpstreamUnavailable as error:
            UPSTREAM_CALLS.labels(self.name, "unavailable").inc()
            raise Problem(
                503,
                f"{self.name} is unavailable: {error}",
                type_slug="upstream-unavailable",
                headers={"Retry-After": retry_after_header(error.retry_after)},
                upstream=self.name,
            ) from None
        UPSTREAM_CALLS.labels(self.name, metrics.status_label(response.status_code)).inc()
        return response

    def _send(
        self, method: str, url: str, json, token: AccessToken, meter: CallMeter, replay_safe: bool
    ) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {token.value}",
            "Accept": "application/json",
            CORRELATION_HEADER: current_correlation_id() or "",
        }
        meter.calls += 1
        try:
            response = self.session.request(
                method, url, json=json, headers=headers, timeout=(self.timeouts.connect, self.timeouts.read)
            )
        except requests.ConnectTimeout as error:  # never reached Salesforce
            raise UpstreamUnavailable(type(error).__name__) from error
        except (requests.ConnectionError, requests.Timeout) as error:
            raise (UpstreamUnavailable if replay_safe else _MaybeApplied)(type(error).__name__) from error
        self.usage.observe(response.headers.get(LIMIT_HEADER))
        retry_after = response.headers.get("Retry-After")
        if response.status_code in (429, 503):
            raise _Refused(f"answered {response.status_code}", retry_after)
        if response.status_code in (502, 504):
            raise (UpstreamUnavailable if replay_safe else _MaybeApplied)(
                f"answered {response.status_code}", retry_after
            )
        return response

    def _fetch_token(self) -> AccessToken:
        """Ask the token endpoint (retried: a token request changes nothing in the org)."""
        url, form = self.login_url + TOKEN_PATH, self.flow.form(self.login_url)

        def post() -> requests.Response:
            try:
                response = self.session.request(
                    "POST",
                    url,
                    data=form,
                    headers={"Accept": "application/json"},
                    timeout=(self.timeouts.connect, self.timeouts.read),
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                raise UpstreamUnavailable(type(error).__name__) from error
            if response.status_code in (429, 502, 503, 504):
                raise _Refused(f"token endpoint answered {response.status_code}", response.headers.get("Retry-After"))
            return response

        response = self._call(post)
        body = _json_object(response)
        if response.status_code != 200 or not body.get("access_token") or not body.get("instance_url"):
            raise TokenRequestError(
                response.status_code,
                str(body.get("error") or f"HTTP_{response.status_code}"),
                str(body.get("error_description") or ""),
            )
        return AccessToken(body["access_token"], body["instance_url"])

    # -- errors ------------------------------------------------------------------------------
    @staticmethod
    def _error_code(response: requests.Response) -> str:
        return salesforce_errors(response)[0]["errorCode"]

    def _problem(self, response: requests.Response) -> Problem:
        errors = salesforce_errors(response)
        code, message = errors[0]["errorCode"], errors[0]["message"]
        extensions: dict[str, Any] = {
            "upstream": self.name,
            "upstream_status": response.status_code,
            "salesforce_errors": errors,
        }
        if response.status_code == 403 and code == "REQUEST_LIMIT_EXCEEDED":
            return Problem(
                503,
                f"{self.name}'s daily API limit is spent: {message}",
                type_slug="salesforce-limit-exceeded",
                headers={"Retry-After": LIMIT_EXHAUSTED_RETRY_AFTER},
                **extensions,
            )
        return Problem(
            502,
            f"{self.name} answered {response.status_code} {code}: {message}",
            type_slug="salesforce-error",
            **extensions,
        )

    def close(self) -> None:
        self.session.close()


def salesforce_errors_of(result: dict) -> list[dict]:
    """The errors of one composite result (whose items say statusCode where top-level errors say errorCode)."""
    return [
        {
            "errorCode": str(error.get("statusCode") or error.get("errorCode") or "UNKNOWN"),
            "message": str(error.get("message") or ""),
            "fields": error.get("fields") or [],
        }
        for error in result.get("errors") or []
        if isinstance(error, dict)
    ]


def _json_object(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
