"""Configuration from environment variables: the machinery every tier's settings use, and the settings
every tier shares (Redis, logs, request limits, Idempotency-Key, credentials, rate limits, calls to
another tier).

Each tier declares its own settings as a frozen dataclass extending `SharedSettings` (e.g.
`system_apis.sap.settings.SapSettings`), each field once with `setting(ENV_VAR, default, help, parse)`;
the composition root (`gateway.settings.Settings`) inherits them all. `from_env`, `describe` and the
checks walk the dataclass fields, so adding a setting is one line, plus a check if it needs one.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.rate_limits import parse_limit

REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ONE_DAY = 86400
#: Kind of client -> the setting holding its rate limit.
RATE_LIMIT_FIELDS = {
    "channel": "rate_limit_channel",
    "system": "rate_limit_system",
    "operator": "rate_limit_operator",
    "service": "rate_limit_service",
}


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected one of 1/true/yes/on or 0/false/no/off")


def optional_text(raw: str) -> str | None:
    return raw.strip() or None


def time_zone(name: str) -> ZoneInfo:
    """An IANA time zone (`Europe/Berlin`, `UTC`) from the zone database (the system's, else the tzdata
    package); ValueError when it has no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones, e.g. "Europe"
        raise ValueError("must be an IANA time zone name, e.g. UTC or Europe/Berlin") from None


def time_zone_name(raw: str) -> str:
    """A setting naming an IANA time zone, checked against the zone database."""
    name = raw.strip()
    time_zone(name)
    return name


def text_or_file(value: str) -> str:
    """A setting given inline or as `@path` to a file holding it (PEM keys and certificates, JSON maps)."""
    text = value.strip()
    return Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else value


def setting(env: str, default: Any, help: str, parse: Callable[[str], Any]) -> Any:
    """One field of a settings class: read from `env`, `default` when unset, `parse` turning the text into
    its value (raising ValueError when it cannot)."""
    return dataclasses.field(default=default, metadata={"env": env, "help": help, "parse": parse})


@dataclass(frozen=True)
class SharedSettings:
    """What every tier reads; `from_env()` in processes, `Settings(...)` (gateway.settings) in tests.

    Subclasses add their fields and extend `check()` (calling `super().check()`), so a composition of
    several (the gateway's) runs every class's checks once."""

    redis_url: str | None = setting(
        "REDIS_URL", None, "redis://, rediss://, unix:// or redis+cluster:// URL; unset = embedded store", optional_text
    )
    redis_cluster: bool = setting(
        "REDIS_CLUSTER", False, "Treat REDIS_URL as a Redis Cluster seed node (implied by +cluster)", parse_bool
    )
    redis_timeout_seconds: float = setting(
        "REDIS_TIMEOUT_SECONDS", 2.0, "Socket connect and read timeout for Redis", float
    )
    log_level: str = setting("LOG_LEVEL", "INFO", "Log level: DEBUG, INFO, WARNING, ERROR, CRITICAL", str.upper)
    max_body_bytes: int = setting("MAX_BODY_BYTES", 4 * 1024 * 1024, "Largest request body accepted (413 above)", int)
    idempotency_ttl_seconds: int = setting(
        "IDEMPOTENCY_TTL_SECONDS", ONE_DAY, "How long an Idempotency-Key response is replayed (>= 86400)", int
    )
    idempotency_lock_seconds: int = setting(
        "IDEMPOTENCY_LOCK_SECONDS", 30, "How long an in-flight Idempotency-Key answers 409", int
    )
    upstream_connect_timeout_seconds: float = setting(
        "UPSTREAM_CONNECT_TIMEOUT_SECONDS", 2.0, "Connect timeout of every call to another tier or system", float
    )
    upstream_read_timeout_seconds: float = setting(
        "UPSTREAM_READ_TIMEOUT_SECONDS", 10.0, "Read timeout of every call to another tier or system", float
    )
    upstream_attempts: int = setting(
        "UPSTREAM_ATTEMPTS", 3, "Tries of a retryable upstream call (idempotent or keyed), first one included", int
    )
    upstream_breaker_failures: int = setting(
        "UPSTREAM_BREAKER_FAILURES",
        5,
        "Failed calls in a row after which a tier client's circuit breaker opens "
        "(calls then fail at once with 503 until it half-opens)",
        int,
    )
    upstream_breaker_reset_seconds: float = setting(
        "UPSTREAM_BREAKER_RESET_SECONDS",
        30.0,
        "How long an open circuit breaker waits before letting one trial call through",
        float,
    )
    service_api_key: str | None = setting(
        "SERVICE_API_KEY",
        None,
        "The API key every tier sends the tier below (a service credential, made with "
        "`credentials create --client-id <id> --kind service --scope service`); unset = a key living only in this "
        "process, enough when the tiers call each other in-process",
        optional_text,
    )
    auth_cache_seconds: float = setting(
        "AUTH_CACHE_SECONDS",
        5.0,
        "How long a verified API key is trusted without asking Redis (a revocation takes effect within it)",
        float,
    )
    # A web shop is one client serving every shopper through one key: a busy shop has some 5,000 shoppers on
    # its pages at a peak, each page asking availability about every 10-20 s (a listing's SKUs in one call),
    # i.e. 250-500 requests a second, plus holds and checkouts. 500 a second carries that peak; counted per
    # second, so a runaway or leaked key is stopped within a second instead of spending a minute's budget in
    # one burst. A store app or call-centre console needs far less: give theirs a tighter limit of its own
    # (`credentials create --rate-limit`), as a bigger shop can be given a larger one.
    rate_limit_channel: str = setting(
        "RATE_LIMIT_CHANNEL",
        "500/second",
        "Requests per channel client (web shop, store app, call centre) without a limit of its own",
        str,
    )
    rate_limit_system: str = setting(
        "RATE_LIMIT_SYSTEM", "6000/minute", "Requests per system client (Salesforce, the SAP sender)", str
    )
    rate_limit_operator: str = setting("RATE_LIMIT_OPERATOR", "600/minute", "Requests per operator client", str)
    rate_limit_service: str = setting(
        "RATE_LIMIT_SERVICE",
        "",
        "Requests per tier-to-tier service client; empty = unlimited (the channel "
        "it serves was limited at the tier above)",
        str,
    )
    auth_failure_limit: str = setting(
        "AUTH_FAILURE_LIMIT",
        "30/minute",
        "Invalid API keys one source address may present (as the server sees it: behind a proxy, the proxy's) "
        "before it gets 429 for each further one until the period ends; empty = no limit",
        str,
    )
    metrics_token: str | None = setting(
        "METRICS_TOKEN",
        None,
        "Bearer token /metrics asks for (`Authorization: Bearer <token>`, 401 otherwise); unset = /metrics is open",
        optional_text,
    )
    rate_limit_sync_seconds: float = setting(
        "RATE_LIMIT_SYNC_SECONDS",
        0.05,
        "How often a process sends a client's counted requests to Redis and reads "
        "the shared totals (0 = on every request); a client may get up to about 2 × (processes − 1) × what one "
        "process serves it in this interval beyond its limit",
        float,
    )

    def __post_init__(self) -> None:
        if self.redis_url and urlsplit(self.redis_url).scheme in CLUSTER_SCHEMES:
            object.__setattr__(self, "redis_cluster", True)
        self.check()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Build settings from `environ` (default `os.environ`); unset variables keep defaults."""
        environ = os.environ if environ is None else environ
        values = {}
        for field in dataclasses.fields(cls):
            env = field.metadata["env"]
            if env not in environ:
                continue
            try:
                values[field.name] = field.metadata["parse"](environ[env])
            except ValueError as error:
                raise ValueError(f"{env}={environ[env]!r} is invalid: {error}") from None
        return cls(**values)

    @classmethod
    def describe(cls) -> Iterator[tuple[str, Any, str]]:
        """Yield (environment variable, default, help) for every setting, e.g. for the README."""
        for field in dataclasses.fields(cls):
            yield field.metadata["env"], field.default, field.metadata["help"]

    @classmethod
    def env(cls, name: str) -> str:
        """The environment variable of the field `name`."""
        return cls.__dataclass_fields__[name].metadata["env"]

    @property
    def rate_limits(self) -> dict[str, str]:
        """Kind of client -> its RATE_LIMIT_* text."""
        return {kind: getattr(self, name) for kind, name in RATE_LIMIT_FIELDS.items()}

    def require(self, condition: bool, name: str, rule: str) -> None:
        """ValueError naming the environment variable of `name` and `rule` unless `condition` holds."""
        if not condition:
            raise ValueError(f"{self.env(name)}={getattr(self, name)!r} is invalid: {rule}")

    def require_at_least_one(self, *names: str) -> None:
        for name in names:
            self.require(getattr(self, name) >= 1, name, "must be >= 1")

    def require_time_zone(self, *names: str) -> None:
        for name in names:
            try:
                time_zone(getattr(self, name))
            except ValueError as error:
                self.require(False, name, str(error))

    def require_positive(self, *names: str) -> None:
        for name in names:
            self.require(getattr(self, name) > 0, name, "must be > 0")

    def check(self) -> None:
        if self.redis_url is not None:
            scheme = urlsplit(self.redis_url).scheme
            self.require(scheme in REDIS_SCHEMES, "redis_url", "scheme must be one of " + ", ".join(REDIS_SCHEMES))
            self.require(
                not (scheme == "unix" and self.redis_cluster),
                "redis_cluster",
                "a Redis Cluster cannot be reached over a unix socket",
            )
        self.require_positive(
            "upstream_connect_timeout_seconds",
            "upstream_read_timeout_seconds",
            "upstream_breaker_reset_seconds",
            "redis_timeout_seconds",
        )
        self.require(self.auth_cache_seconds >= 0, "auth_cache_seconds", "must be >= 0")
        for name in RATE_LIMIT_FIELDS.values():
            self.require(
                _is_rate_limit(getattr(self, name)),
                name,
                'must be like "600/minute", "10/second" or "10/5 minutes", or empty for no limit',
            )
        self.require(
            _is_rate_limit(self.auth_failure_limit),
            "auth_failure_limit",
            'must be like "30/minute" or "10/5 minutes", or empty for no limit',
        )
        self.require(self.rate_limit_sync_seconds >= 0, "rate_limit_sync_seconds", "must be >= 0")
        self.require(self.log_level in LOG_LEVELS, "log_level", "must be one of " + ", ".join(LOG_LEVELS))
        self.require_at_least_one(
            "max_body_bytes", "idempotency_lock_seconds", "upstream_attempts", "upstream_breaker_failures"
        )
        # The IETF Idempotency-Key draft expects keys to be honoured for at least a day.
        self.require(self.idempotency_ttl_seconds >= ONE_DAY, "idempotency_ttl_seconds", f"must be >= {ONE_DAY}")


def _is_rate_limit(text: str) -> bool:
    try:
        parse_limit(text)
    except ValueError:
        return False
    return True
