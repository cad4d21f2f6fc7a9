"""API keys: their format, the Redis store of client credentials, and the verification cache.

A key is `igw_<client_id>.<secret>`. Redis keeps, per client, one hash `auth:client:{<client_id>}`
(its own hash tag, so it is cluster-safe) holding the attributes and only sha256(secret): the
secret is 32 random bytes, so unlike a password it cannot be guessed from its hash and a slow KDF
would only cost every request time. The key itself is shown once, at creation, and never stored
or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cachetools import TTLCache

from shared.rate_limits import parse_limit
from shared.validators import is_clean_text

from .scopes import SERVICE, SERVICE_SCOPE, check_grant, effective_scopes

logger = logging.getLogger(__name__)

KEY_PREFIX = "igw_"
CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: Longer than any key we issue; anything longer is refused before it is hashed.
MAX_KEY_LENGTH = 160
#: The longest name and store id a credential takes (the process API's ids are at most 64 characters).
MAX_NAME_LENGTH, MAX_STORE_ID_LENGTH = 200, 64
CLIENT_INDEX_KEY = "auth:clients"
#: The service credential of a process that calls its own tiers in-process (all-in-one shape).
IN_PROCESS_CLIENT_ID = "in-process"

DEFAULT_CACHE_SECONDS = 5.0
POSITIVE_CACHE_SIZE = 4096
#: Bounded, so a flood of distinct bad keys cannot grow memory; each repeat of one costs no Redis call.
NEGATIVE_CACHE_SIZE = 1024


def client_key(client_id: str) -> str:
    return f"auth:client:{{{client_id}}}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class CredentialError(ValueError):
    """A credential that cannot be created as asked (bad client id, scope, kind or store)."""


class CredentialExists(CredentialError):
    """`create` of a client id that already has a credential, without `rotate=True`."""


@dataclass(frozen=True)
class Credential:
    """Who is calling: a client's attributes, never its secret."""

    client_id: str
    kind: str
    scopes: frozenset[str]
    name: str = ""
    store_id: str | None = None
    created_at: str = ""
    disabled: bool = False
    #: Its own rate limit ("2000 per second"), used instead of its kind's RATE_LIMIT_*; None: its kind's.
    rate_limit: str | None = None
    #: Lives only in this process's memory (the in-process service key); never rate limited.
    process_local: bool = False

    @property
    def effective_scopes(self) -> frozenset[str]:
        return effective_scopes(self.kind, self.scopes, self.store_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "kind": self.kind,
            "scopes": sorted(self.scopes),
            "store_id": self.store_id,
            "created_at": self.created_at,
            "disabled": self.disabled,
            "rate_limit": self.rate_limit,
        }


def parse_key(api_key: str) -> tuple[str, str] | None:
    """(client_id, secret) of a well-formed key, else None."""
    if not api_key.startswith(KEY_PREFIX) or len(api_key) > MAX_KEY_LENGTH:
        return None
    client_id, dot, secret = api_key[len(KEY_PREFIX) :].partition(".")
    if not dot or not secret or not CLIENT_ID.fullmatch(client_id):
        return None
    return client_id, secret


def new_api_key(client_id: str) -> str:
    """A fresh API key of `client_id`: 32 random bytes of secret."""
    return f"{KEY_PREFIX}{client_id}.{secrets.token_urlsafe(32)}"


class CredentialStore:
    """Creates, verifies, lists and revokes client credentials kept in Redis.

    Successful verifications are cached in this process for `cache_seconds` (0 = off), so the hot
    path pays no Redis round trip; a revocation or rotation made elsewhere therefore takes effect
    within `cache_seconds` (at once in the process that made it). Rejected keys are cached as long,
    in a small bounded cache. `clock` (monotonic seconds) is injectable for tests.
    """

    def __init__(
        self, redis, *, cache_seconds: float = DEFAULT_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.redis = redis
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        # Both caches or neither (cache_seconds 0).
        self._accepted: TTLCache | None = None
        self._rejected: TTLCache | None = None
        if cache_seconds > 0:
            self._accepted = TTLCache(POSITIVE_CACHE_SIZE, cache_seconds, timer=clock)
            self._rejected = TTLCache(NEGATIVE_CACHE_SIZE, cache_seconds, timer=clock)

    def create(
        self,
        client_id: str,
        *,
        kind: str,
        scopes: Iterable[str],
        name: str | None = None,
        store_id: str | None = None,
        rotate: bool = False,
        api_key: str | None = None,
        rate_limit: str | None = None,
    ) -> tuple[Credential, str]:
        """A new credential and its API key (shown once): `api_key` when given (one `new_api_key` made
        for this client, e.g. printed before the store existed), else a fresh one; `rate_limit` ("2000/second")
        its own, instead of its kind's. An existing client id is refused unless `rotate`, which replaces it
        (and its key) whole."""
        if not CLIENT_ID.fullmatch(client_id or ""):
            raise CredentialError("client id must be 1-64 letters, digits, '-' or '_', starting with a letter or digit")
        for label, text, longest in (("name", name, MAX_NAME_LENGTH), ("store id", store_id, MAX_STORE_ID_LENGTH)):
            if text is not None and not (0 < len(text) <= longest and is_clean_text(text)):
                raise CredentialError(f"{label} must be 1-{longest} characters without control characters")
        if rate_limit is not None:
            rate_limit = _own_rate_limit(rate_limit)
        try:
            granted = check_grant(kind, scopes, store_id)
        except ValueError as error:
            raise CredentialError(str(error)) from None
        if api_key is None:
            api_key = new_api_key(client_id)
        parsed = parse_key(api_key)
        if parsed is None or parsed[0] != client_id:
            raise CredentialError(f"that API key is not one of client {client_id!r}")
        secret_digest = _digest(parsed[1])
        credential = Credential(
            client_id, kind, granted, name or client_id, store_id, _now_iso(), rate_limit=rate_limit
        )
        fields = {
            "name": credential.name,
            "kind": kind,
            "scopes": " ".join(sorted(granted)),
            "created_at": credential.created_at,
            "disabled": "0",
            "secret_sha256": secret_digest,
        }
        if store_id is not None:
            fields["store_id"] = store_id
        if rate_limit is not None:
            fields["rate_limit"] = rate_limit
        key = client_key(client_id)
        if rotate:
            pipe = self.redis.pipeline(transaction=True)
            pipe.delete(key)
            pipe.hset(key, mapping=fields)
            pipe.execute()
        # HSETNX claims the client id atomically: two concurrent creates cannot both win.
        elif not self.redis.hsetnx(key, "created_at", credential.created_at):
            raise CredentialExists(f"client {client_id!r} already has a credential (rotate to replace it)")
        else:
            self.redis.hset(key, mapping=fields)
        self.redis.sadd(CLIENT_INDEX_KEY, client_id)
        self._forget(client_id)
        return credential, api_key

    def verify(self, api_key: str) -> Credential | None:
        """The credential `api_key` belongs to, or None (malformed, unknown, wrong secret, disabled)."""
        parsed = parse_key(api_key)
        if parsed is None:
            return None
        client_id, secret = parsed
        cache_key = _digest(api_key)
        if (local := _process_local.get(cache_key)) is not None:
            return local
        with self._lock:
            if self._accepted is not None and self._rejected is not None:
                if (cached := self._accepted.get(cache_key)) is not None:
                    return cached
                if cache_key in self._rejected:
                    return None
        credential = self._load(client_id, secret)
        with self._lock:
            if self._accepted is not None and self._rejected is not None:
                if credential is None:
                    self._rejected[cache_key] = True
                else:
                    self._accepted[cache_key] = credential
        return credential

    def _load(self, client_id: str, secret: str) -> Credential | None:
        fields = self.redis.hgetall(client_key(client_id))
        stored = fields.get("secret_sha256")
        if not stored or not hmac.compare_digest(stored, _digest(secret)):
            return None
        credential = _from_fields(client_id, fields)
        return None if credential.disabled else credential

    def get(self, client_id: str) -> Credential | None:
        fields = self.redis.hgetall(client_key(client_id)) if CLIENT_ID.fullmatch(client_id or "") else {}
        return _from_fields(client_id, fields) if fields.get("secret_sha256") else None

    def list(self) -> list[Credential]:
        """Every credential (revoked ones too, marked disabled), by client id."""
        found = (self.get(client_id) for client_id in sorted(self.redis.smembers(CLIENT_INDEX_KEY)))
        return [credential for credential in found if credential is not None]

    def revoke(self, client_id: str) -> bool:
        """Disable the credential (kept, for the record); False when there is none."""
        if self.get(client_id) is None:
            return False
        self.redis.hset(client_key(client_id), mapping={"disabled": "1", "revoked_at": _now_iso()})
        self._forget(client_id)
        return True

    def _forget(self, client_id: str) -> None:
        with self._lock:
            if self._accepted is not None and self._rejected is not None:
                for cache_key, credential in list(self._accepted.items()):
                    if credential.client_id == client_id:
                        del self._accepted[cache_key]
                self._rejected.clear()


def _from_fields(client_id: str, fields: dict[str, str]) -> Credential:
    return Credential(
        client_id=client_id,
        kind=fields.get("kind", ""),
        scopes=frozenset(fields.get("scopes", "").split()),
        name=fields.get("name", ""),
        store_id=fields.get("store_id") or None,
        created_at=fields.get("created_at", ""),
        disabled=fields.get("disabled") == "1",
        rate_limit=fields.get("rate_limit") or None,
    )


def _own_rate_limit(text: str) -> str:
    """A credential's own rate limit, written as the limiter reads it back ("2000 per second"); a credential
    cannot be made unlimited this way (its kind's limit applies unless one is given)."""
    try:
        limit = parse_limit(text)
    except ValueError as error:
        raise CredentialError(f"invalid rate limit: {error}") from None
    if limit is None:
        raise CredentialError('rate limit must be like "2000/second" or "600/minute"')
    return str(limit)


# --- the key tiers send each other ---------------------------------------------------------

#: sha256(key) -> credential of the keys that live only in this process (see service_api_key).
_process_local: dict[str, Credential] = {}
_process_local_key: str | None = None
_process_local_lock = threading.Lock()


def service_api_key(configured: str | None = None) -> str:
    """The key this process's tier clients send: `configured` (SERVICE_API_KEY, created with
    `credentials create --client-id <id> --kind service --scope service`) in the split shape; without it, a service
    key made for this process alone, kept only in its memory (never in Redis), which every API of the
    process accepts: right for the all-in-one shape, where tiers call each other in-process."""
    global _process_local_key
    if configured:
        return configured
    with _process_local_lock:
        if _process_local_key is None:
            api_key = new_api_key(IN_PROCESS_CLIENT_ID)
            _process_local[_digest(api_key)] = Credential(
                IN_PROCESS_CLIENT_ID,
                SERVICE,
                frozenset({SERVICE_SCOPE}),
                "this process's tiers",
                created_at=_now_iso(),
                process_local=True,
            )
            _process_local_key = api_key
        return _process_local_key


def tier_api_key(settings, *, over_http: bool = False) -> str:
    """The key a tier client built from `settings` sends: SERVICE_API_KEY, else this process's own key,
    which only the APIs of this process accept (so a call `over_http` to another process warns)."""
    if over_http and not settings.service_api_key:
        logger.warning(
            "SERVICE_API_KEY is not set: calls to tiers in other processes will be refused (401); "
            "create one with `inventory-gateway credentials create --client-id <id> --kind service "
            "--scope service`"
        )
    return service_api_key(settings.service_api_key)


def tier_auth_headers(api_key: str) -> dict[str, str]:
    """The headers a tier client sends with every call to the tier below."""
    return {"Authorization": f"Bearer {api_key}"}
