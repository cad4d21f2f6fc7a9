"""Per-client rate limits (OWASP API4): one budget per client id and kind of client, counted in
Redis so that every worker and every API of a deployment share it; over it, 429 problem+json with
Retry-After. Built on flask-limiter (fixed window: one Redis round trip, a Lua INCR+EXPIRE, per request).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import flask
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded

from shared.auth import current_credential
from shared.auth.scopes import CHANNEL, OPERATOR, SERVICE, SYSTEM
from shared.config import CLUSTER_SCHEMES, RATE_LIMIT_FIELDS, Settings
from shared.errors import Problem
from shared.redis import is_embedded

#: Requests per client, by kind (flask-limiter notation; "" = unlimited): the defaults of the
#: RATE_LIMIT_* settings. Tier-to-tier traffic is not limited: the channel it serves was, at the tier above.
DEFAULT_LIMITS = {CHANNEL: "600/minute", SYSTEM: "6000/minute", OPERATOR: "600/minute", SERVICE: ""}


def storage_uri(settings: Settings) -> str:
    """Where the counters live: the configured Redis (standalone or cluster), or process memory with
    the embedded store, which serves one process anyway."""
    if is_embedded(settings):
        return "memory://"
    parts = urlsplit(settings.redis_url)
    if settings.redis_cluster or parts.scheme in CLUSTER_SCHEMES:
        return urlunsplit(("redis+cluster", parts.netloc, "", "", ""))
    if parts.scheme == "unix":
        return "redis+" + settings.redis_url
    return settings.redis_url


def create_limiter(uri: str = "memory://", *, limits_by_kind: Mapping[str, str] | None = None,
                   timeout_seconds: float = 2.0, tls: bool = False) -> Limiter:
    """A limiter counting in `uri` (see `storage_uri`; `tls` for a redis+cluster:// one over TLS).
    Pass one instance to every API of a process: it keeps a single storage, so a client's budget is
    shared by them (each `init_app` rebuilds that storage, so build all apps before serving).
    Should Redis fail, it counts in process memory until Redis answers again, rather than failing
    every request."""
    limits = {**DEFAULT_LIMITS, **(limits_by_kind or {})}
    options = {}
    if not uri.startswith("memory"):
        options = {"socket_timeout": timeout_seconds, "socket_connect_timeout": timeout_seconds}
        if tls:
            options["ssl"] = True

    def limit_of_caller() -> str:
        return limits.get(current_credential().kind, "")

    limiter = Limiter(
        key_func=lambda: current_credential().client_id,
        application_limits=[ApplicationLimit(limit_of_caller, scope="client")],
        storage_uri=uri, storage_options=options, strategy="fixed-window",
        # Rate-limit headers would cost a second Redis call per request; 429s carry Retry-After.
        headers_enabled=False, in_memory_fallback_enabled=True, key_prefix="ratelimit",
    )
    def exempt() -> bool:
        # Public views carry no credential, and a process's own in-process service key is not a client.
        credential = current_credential()
        return credential is None or credential.process_local or not limits.get(credential.kind)

    limiter.request_filter(exempt)
    return limiter


def create_limiter_for(settings: Settings) -> Limiter:
    """The limiter of the store and RATE_LIMIT_* limits `settings` configure: one per process for each
    such pair, so that the APIs served by one process share a client's budget even in process memory."""
    # A rediss:// URL brings TLS by itself; the cluster URL handed to limits has lost the "s".
    tls = bool(settings.redis_cluster and urlsplit(settings.redis_url).scheme.startswith("rediss"))
    limits_by_kind = tuple((kind, getattr(settings, name)) for kind, name in RATE_LIMIT_FIELDS.items())
    identity = (storage_uri(settings), limits_by_kind, settings.redis_timeout_seconds, tls)
    with _shared_lock:
        if identity not in _shared:
            _shared[identity] = create_limiter(identity[0], limits_by_kind=dict(limits_by_kind),
                                               timeout_seconds=settings.redis_timeout_seconds, tls=tls)
        return _shared[identity]


_shared: dict[tuple, Limiter] = {}
_shared_lock = threading.Lock()


def init_app(app: flask.Flask, limiter: Limiter) -> None:
    """Apply `limiter` to `app` (after authentication, which tells who the client is)."""
    limiter.init_app(app)

    def too_many_requests(error: RateLimitExceeded) -> flask.Response:
        retry_after = _seconds_until_reset(limiter, error)
        return Problem(429, f"This client's rate limit of {error.limit.limit} is used up; retry in {retry_after} s.",
                       headers={"Retry-After": str(retry_after)}).to_response()

    app.register_error_handler(RateLimitExceeded, too_many_requests)


def _seconds_until_reset(limiter: Limiter, error: RateLimitExceeded) -> int:
    try:
        reset_time, _remaining = limiter.current_limit.window
        return max(1, math.ceil(reset_time - time.time()))
    except Exception:  # noqa: BLE001 - the store failed right after refusing: the window length is safe
        return max(1, error.limit.limit.get_expiry())
