"""The one configuration object of the gateway, read from environment variables.

Each field is declared once with `_setting(ENV_VAR, default, help, parse)`; `from_env`
and `describe` both walk the dataclass fields, so adding a setting is one line.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ONE_DAY = 86400
#: Kind of client -> the setting holding its rate limit.
RATE_LIMIT_FIELDS = {"channel": "rate_limit_channel", "system": "rate_limit_system",
                     "operator": "rate_limit_operator", "service": "rate_limit_service"}


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected one of 1/true/yes/on or 0/false/no/off")


def _parse_optional_str(raw: str) -> str | None:
    return raw.strip() or None


def text_or_file(value: str) -> str:
    """A setting given inline or as `@path` to a file holding it (PEM keys and certificates, JSON maps)."""
    text = value.strip()
    return Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else value


def _setting(env: str, default: Any, help: str, parse: Callable[[str], Any]) -> Any:
    return dataclasses.field(default=default, metadata={"env": env, "help": help, "parse": parse})


@dataclass(frozen=True)
class Settings:
    """Every tunable of the gateway; `from_env()` in processes, `Settings(...)` directly in tests."""

    redis_url: str | None = _setting(
        "REDIS_URL", None, "redis://, rediss://, unix:// or redis+cluster:// URL; unset = embedded store",
        _parse_optional_str)
    redis_cluster: bool = _setting(
        "REDIS_CLUSTER", False, "Treat REDIS_URL as a Redis Cluster seed node (implied by +cluster)",
        _parse_bool)
    redis_timeout_seconds: float = _setting(
        "REDIS_TIMEOUT_SECONDS", 2.0, "Socket connect and read timeout for Redis", float)
    near_cache_entries: int = _setting(
        "NEAR_CACHE_ENTRIES", 20000, "Redis keys (positions, catalogue and rule versions, the locations holding "
        "each SKU) each process keeps for availability reads, dropped the moment Redis reports a change "
        "(client-side caching; standalone Redis only); 0 = read Redis every time", int)
    log_level: str = _setting("LOG_LEVEL", "INFO", "Log level: DEBUG, INFO, WARNING, ERROR, CRITICAL", str.upper)
    host: str = _setting("GATEWAY_HOST", "127.0.0.1", "Address `serve` binds to", str)
    port: int = _setting("GATEWAY_PORT", 8080, "TCP port `serve` listens on", int)
    workers: int = _setting("GATEWAY_WORKERS", 2, "Gunicorn worker processes", int)
    threads: int = _setting("GATEWAY_THREADS", 8, "Threads per gunicorn worker", int)
    max_body_bytes: int = _setting("MAX_BODY_BYTES", 4 * 1024 * 1024, "Largest request body accepted (413 above)",
                                   int)
    idempotency_ttl_seconds: int = _setting(
        "IDEMPOTENCY_TTL_SECONDS", ONE_DAY, "How long an Idempotency-Key response is replayed (>= 86400)", int)
    idempotency_lock_seconds: int = _setting(
        "IDEMPOTENCY_LOCK_SECONDS", 30, "How long an in-flight Idempotency-Key answers 409", int)
    dedup_ttl_seconds: int = _setting(
        "INVENTORY_DEDUP_TTL_SECONDS", 7 * ONE_DAY, "How long an applied event_id is remembered", int)
    delta_journal_seconds: int = _setting(
        "INVENTORY_DELTA_JOURNAL_SECONDS", ONE_DAY, "How far back deltas are kept to re-apply on a snapshot", int)
    delta_journal_max: int = _setting(
        "INVENTORY_DELTA_JOURNAL_MAX", 512, "Most deltas kept per position for snapshot re-application", int)
    reservation_default_ttl_seconds: int = _setting(
        "RESERVATION_DEFAULT_TTL_SECONDS", 900, "Reservation lifetime when the request gives none", int)
    reservation_max_ttl_seconds: int = _setting(
        "RESERVATION_MAX_TTL_SECONDS", 14400, "Longest reservation lifetime a request may ask for", int)
    sweeper_interval_seconds: float = _setting(
        "SWEEPER_INTERVAL_SECONDS", 0.5, "How often expired reservations are released", float)
    demo: bool = _setting("GATEWAY_DEMO", False, "Seed demo data at start-up", _parse_bool)
    process_api_url: str | None = _setting(
        "INVENTORY_PROCESS_URL", None, "Base URL of the inventory process API (split shape); unset = in-process",
        _parse_optional_str)
    upstream_connect_timeout_seconds: float = _setting(
        "UPSTREAM_CONNECT_TIMEOUT_SECONDS", 2.0, "Connect timeout of every call to another tier or system", float)
    upstream_read_timeout_seconds: float = _setting(
        "UPSTREAM_READ_TIMEOUT_SECONDS", 10.0, "Read timeout of every call to another tier or system", float)
    upstream_attempts: int = _setting(
        "UPSTREAM_ATTEMPTS", 3, "Tries of a retryable upstream call (idempotent or keyed), first one included", int)
    upstream_breaker_failures: int = _setting(
        "UPSTREAM_BREAKER_FAILURES", 5, "Failed calls in a row after which a tier client's circuit breaker opens "
        "(calls then fail at once with 503 until it half-opens)", int)
    upstream_breaker_reset_seconds: float = _setting(
        "UPSTREAM_BREAKER_RESET_SECONDS", 30.0, "How long an open circuit breaker waits before letting one trial "
        "call through", float)
    sap_base_url: str | None = _setting(
        "SAP_BASE_URL", None, "SAP S/4HANA OData root (https://host/sap/opu/odata/sap); unset = the bundled "
        "simulator, in-process", _parse_optional_str)
    sap_user: str | None = _setting("SAP_USER", None, "SAP communication user (basic auth)", _parse_optional_str)
    sap_password: str | None = _setting("SAP_PASSWORD", None, "Password of SAP_USER", _parse_optional_str)
    sap_webhook_auth: str = _setting(
        "SAP_WEBHOOK_AUTH", "hmac", "How SAP business-event pushes are verified: hmac or basic", str.lower)
    sap_webhook_secret: str | None = _setting(
        "SAP_WEBHOOK_SECRET", None, "Shared secret of the HMAC-SHA256 webhook signature (and the simulator's)",
        _parse_optional_str)
    sap_webhook_max_age_seconds: int = _setting(
        "SAP_WEBHOOK_MAX_AGE_SECONDS", 300, "Oldest signature timestamp a webhook push may carry", int)
    sap_reads_in_flight: int = _setting(
        "SAP_READS_IN_FLIGHT", 4, "Material-document reads of SAP in flight at once per process; pushes beyond "
        "them wait and are read together, many documents per request", int)
    sap_location_map: str | None = _setting(
        "SAP_LOCATION_MAP", None, 'Plant/storage location -> gateway location: JSON {"1010/0001": "S001"} or '
        "@path to such a file", _parse_optional_str)
    sap_sim_subscribers: str = _setting(
        "SAP_SIM_SUBSCRIBERS", "", "Comma-separated webhook URLs the SAP simulator pushes business events to", str)
    salesforce_base_url: str | None = _setting(
        "SALESFORCE_BASE_URL", None, "Salesforce login / My Domain URL (https://acme.my.salesforce.com), where "
        "/services/oauth2/token is; unset = the bundled simulator, in-process", _parse_optional_str)
    salesforce_client_id: str | None = _setting(
        "SALESFORCE_CLIENT_ID", None, "Connected-app consumer key (and the one client the simulator knows)",
        _parse_optional_str)
    salesforce_client_secret: str | None = _setting(
        "SALESFORCE_CLIENT_SECRET", None, "Connected-app consumer secret (client credentials flow)",
        _parse_optional_str)
    salesforce_auth_flow: str = _setting(
        "SALESFORCE_AUTH_FLOW", "client_credentials", "OAuth 2.0 flow: client_credentials or jwt_bearer", str.lower)
    salesforce_jwt_private_key: str | None = _setting(
        "SALESFORCE_JWT_PRIVATE_KEY", None, "RS256 private key (PEM, or @path) signing JWT bearer assertions",
        _parse_optional_str)
    salesforce_jwt_subject: str | None = _setting(
        "SALESFORCE_JWT_SUBJECT", None, "Salesforce username the JWT bearer flow acts as", _parse_optional_str)
    salesforce_api_version: str = _setting(
        "SALESFORCE_API_VERSION", "62.0", "Salesforce REST API version", str)
    salesforce_outbound: str = _setting(
        "SALESFORCE_OUTBOUND", "records", "How availability reaches Salesforce: records (upserts of "
        "Product_Availability__c) or platform_event (Inventory_Availability__e)", str.lower)
    salesforce_limit_share: float = _setting(
        "SALESFORCE_LIMIT_SHARE", 0.8, "Share of the daily API limit above which publishing slows down", float)
    salesforce_system_url: str | None = _setting(
        "SALESFORCE_SYSTEM_URL", None, "Base URL of the Salesforce system API (split shape); unset = in-process",
        _parse_optional_str)
    salesforce_channel: str = _setting(
        "SALESFORCE_CHANNEL", "web", "Sales channel Salesforce reserves and reads availability for (OCI calls)", str)
    web_network_group: str = _setting(
        "WEB_NETWORK_GROUP", "WEB-SHIP", "Location group whose stock the web shop ships to home from", str)
    web_display_cap: int = _setting(
        "WEB_DISPLAY_CAP", 10, 'Largest quantity the web shop shows; more shows as e.g. "10+"', int)
    web_cache_max_age_seconds: int = _setting(
        "WEB_CACHE_MAX_AGE_SECONDS", 5, "Cache-Control max-age of web availability answers", int)
    web_availability_cache_seconds: float = _setting(
        "WEB_AVAILABILITY_CACHE_SECONDS", 1.0, "How long a web API process reuses one availability document for "
        "the same query (0 = never; one request then refreshes it, the others get it until at most 3x this old); "
        "holds and checkout always ask the process API", float)
    web_pickup_radius_km: float = _setting(
        "WEB_PICKUP_RADIUS_KM", 50.0, "How far from the shopper's postal code pickup stores are listed", float)
    web_postal_codes: str | None = _setting(
        "WEB_POSTAL_CODES", None, 'Postal code -> [latitude, longitude]: JSON {"10115": [52.53, 13.38]} or @path; '
        "unset = the bundled German table", _parse_optional_str)
    web_hold_ttl_seconds: int = _setting(
        "WEB_HOLD_TTL_SECONDS", 900, "Lifetime of a web cart hold (RESERVATION_MAX_TTL_SECONDS caps it)", int)
    order_reservation_ttl_seconds: int = _setting(
        "ORDER_RESERVATION_TTL_SECONDS", 14400, "Lifetime of a reservation made at checkout or by a call-centre "
        "agent (RESERVATION_MAX_TTL_SECONDS caps it)", int)
    max_units_per_line: int = _setting(
        "MAX_UNITS_PER_LINE", 20, "Most units one channel reservation line may ask for (abuse limit)", int)
    max_lines_per_reservation: int = _setting(
        "MAX_LINES_PER_RESERVATION", 50, "Most lines one channel reservation may have (abuse limit)", int)
    max_holds_per_cart: int = _setting(
        "MAX_HOLDS_PER_CART", 20, "Most active holds one web cart may have (abuse limit)", int)
    service_api_key: str | None = _setting(
        "SERVICE_API_KEY", None, "The API key every tier sends the tier below (a service credential, made with "
        "`credentials create --client-id <id> --kind service --scope service`); unset = a key living only in this "
        "process, enough when the tiers call each other in-process", _parse_optional_str)
    auth_cache_seconds: float = _setting(
        "AUTH_CACHE_SECONDS", 5.0, "How long a verified API key is trusted without asking Redis (a revocation "
        "takes effect within it)", float)
    rate_limit_channel: str = _setting(
        "RATE_LIMIT_CHANNEL", "600/minute", "Requests per channel client (web shop, store app, call centre)", str)
    rate_limit_system: str = _setting(
        "RATE_LIMIT_SYSTEM", "6000/minute", "Requests per system client (Salesforce, the SAP sender)", str)
    rate_limit_operator: str = _setting("RATE_LIMIT_OPERATOR", "600/minute", "Requests per operator client", str)
    rate_limit_service: str = _setting(
        "RATE_LIMIT_SERVICE", "", "Requests per tier-to-tier service client; empty = unlimited (the channel "
        "it serves was limited at the tier above)", str)
    rate_limit_sync_seconds: float = _setting(
        "RATE_LIMIT_SYNC_SECONDS", 0.05, "How often a process sends a client's counted requests to Redis and reads "
        "the shared totals (0 = on every request); a client may get up to about 2 × (processes − 1) × what one "
        "process serves it in this interval beyond its limit", float)
    publisher_window_ms: int = _setting(
        "PUBLISHER_WINDOW_MS", 200, "Coalescing window of the availability publisher (ms)", int)
    sf_sim_jwt_certificate: str | None = _setting(
        "SF_SIM_JWT_CERTIFICATE", None, "X.509 certificate (PEM, or @path) the Salesforce simulator checks JWT "
        "bearer assertions against", _parse_optional_str)
    sf_sim_token_ttl_seconds: int = _setting(
        "SF_SIM_TOKEN_TTL_SECONDS", 7200, "Lifetime of the Salesforce simulator's access tokens", int)
    sf_sim_daily_api_limit: int = _setting(
        "SF_SIM_DAILY_API_LIMIT", 100000, "The Salesforce simulator's daily API request limit", int)

    def __post_init__(self) -> None:
        _validate(self)
        if self.redis_url and urlsplit(self.redis_url).scheme in CLUSTER_SCHEMES:
            object.__setattr__(self, "redis_cluster", True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
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


def describe() -> Iterator[tuple[str, Any, str]]:
    """Yield (environment variable, default, help) for every setting, e.g. for the README."""
    for field in dataclasses.fields(Settings):
        yield field.metadata["env"], field.default, field.metadata["help"]


def _env(name: str) -> str:
    return Settings.__dataclass_fields__[name].metadata["env"]


def _require(condition: bool, name: str, value: Any, rule: str) -> None:
    if not condition:
        raise ValueError(f"{_env(name)}={value!r} is invalid: {rule}")


def _is_rate_limit(text: str) -> bool:
    from shared.rate_limits import parse_limit  # here, not at the top: rate_limits imports this module

    try:
        parse_limit(text)
    except ValueError:
        return False
    return True


def _validate(settings: Settings) -> None:
    s = settings
    if s.redis_url is not None:
        scheme = urlsplit(s.redis_url).scheme
        _require(scheme in REDIS_SCHEMES, "redis_url", s.redis_url,
                 "scheme must be one of " + ", ".join(REDIS_SCHEMES))
        _require(not (scheme == "unix" and s.redis_cluster), "redis_cluster", s.redis_cluster,
                 "a Redis Cluster cannot be reached over a unix socket")
    _require(s.sap_webhook_auth in ("hmac", "basic"), "sap_webhook_auth", s.sap_webhook_auth, "must be hmac or basic")
    _require(s.salesforce_auth_flow in ("client_credentials", "jwt_bearer"), "salesforce_auth_flow",
             s.salesforce_auth_flow, "must be client_credentials or jwt_bearer")
    _require(s.salesforce_outbound in ("records", "platform_event"), "salesforce_outbound", s.salesforce_outbound,
             "must be records or platform_event")
    _require(0 < s.salesforce_limit_share <= 1, "salesforce_limit_share", s.salesforce_limit_share,
             "must be > 0 and <= 1")
    for name in ("upstream_connect_timeout_seconds", "upstream_read_timeout_seconds", "upstream_breaker_reset_seconds"):
        _require(getattr(s, name) > 0, name, getattr(s, name), "must be > 0")
    _require(s.web_cache_max_age_seconds >= 0, "web_cache_max_age_seconds", s.web_cache_max_age_seconds, "must be >= 0")
    _require(s.web_availability_cache_seconds >= 0, "web_availability_cache_seconds",
             s.web_availability_cache_seconds, "must be >= 0")
    _require(s.web_pickup_radius_km > 0, "web_pickup_radius_km", s.web_pickup_radius_km, "must be > 0")
    _require(s.auth_cache_seconds >= 0, "auth_cache_seconds", s.auth_cache_seconds, "must be >= 0")
    for name in RATE_LIMIT_FIELDS.values():
        _require(_is_rate_limit(getattr(s, name)), name, getattr(s, name),
                 'must be like "600/minute", "10/second" or "10/5 minutes", or empty for no limit')
    _require(s.rate_limit_sync_seconds >= 0, "rate_limit_sync_seconds", s.rate_limit_sync_seconds, "must be >= 0")
    _require(s.near_cache_entries >= 0, "near_cache_entries", s.near_cache_entries, "must be >= 0")
    _require(s.redis_timeout_seconds > 0, "redis_timeout_seconds", s.redis_timeout_seconds, "must be > 0")
    _require(s.log_level in LOG_LEVELS, "log_level", s.log_level, "must be one of " + ", ".join(LOG_LEVELS))
    _require(1 <= s.port <= 65535, "port", s.port, "must be between 1 and 65535")
    for name in ("workers", "threads", "max_body_bytes", "idempotency_lock_seconds", "dedup_ttl_seconds",
                 "delta_journal_seconds", "delta_journal_max", "reservation_default_ttl_seconds",
                 "upstream_attempts", "sap_webhook_max_age_seconds", "sap_reads_in_flight", "publisher_window_ms",
                 "sf_sim_token_ttl_seconds", "sf_sim_daily_api_limit", "upstream_breaker_failures", "web_display_cap", "web_hold_ttl_seconds",
                 "order_reservation_ttl_seconds", "max_units_per_line", "max_lines_per_reservation",
                 "max_holds_per_cart"):
        _require(getattr(s, name) >= 1, name, getattr(s, name), "must be >= 1")
    # The IETF Idempotency-Key draft expects keys to be honoured for at least a day.
    _require(s.idempotency_ttl_seconds >= ONE_DAY, "idempotency_ttl_seconds", s.idempotency_ttl_seconds,
             f"must be >= {ONE_DAY}")
    _require(s.reservation_max_ttl_seconds >= s.reservation_default_ttl_seconds, "reservation_max_ttl_seconds",
             s.reservation_max_ttl_seconds, f"must be >= {_env('reservation_default_ttl_seconds')}")
    _require(s.sweeper_interval_seconds > 0, "sweeper_interval_seconds", s.sweeper_interval_seconds, "must be > 0")
