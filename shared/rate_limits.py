"""Per-client rate limits (OWASP API4): one budget per client id, sized by the credential's own limit
(`credentials create --rate-limit`) or else by its kind of client, and counted in Redis so that every worker
and every API of a deployment share it; over it, 429 problem+json with Retry-After.

Sliding-window counter: one Redis counter per client and window (`ratelimit:{<client_id>}:<window>`, window =
floor(now / period)); a client's count is estimated as previous × (1 − elapsed/period) + current. To keep the
Redis round trip off most requests, each process counts a client's requests locally and, at most every
RATE_LIMIT_SYNC_SECONDS and on the client's first request in a window, sends them (INCRBY) and reads the
shared totals back, inline in that one request while the client's other requests decide on the local view.
A request the local view already refuses is refused without waiting for Redis (other processes' hits can
only add to it); a sync then happens only if hits wait to be sent, so a client over its limit costs no
round trips.

Overshoot bound: a process does not see the hits other processes admitted since its last read, nor those they
have not sent yet; each of the two is at most what one process admits in one sync interval. So with N
processes serving a client, it gets at most about limit + 2 × (N − 1) × (requests one process admits for it
in one sync interval, plus a Redis round trip) per window. With RATE_LIMIT_SYNC_SECONDS=0 every request
syncs, and only the requests a process admits while one of its syncs is in flight can slip past.

Should Redis fail, each process counts on its own and sends the hits once Redis answers again: the limiter
never fails a request.

Beside it, `FailedKeyThrottle` counts invalid API keys per source address (AUTH_FAILURE_LIMIT).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from redis.exceptions import RedisError

from shared import metrics
from shared.errors import Problem

if TYPE_CHECKING:
    from shared.auth import Credential

logger = logging.getLogger(__name__)

#: After a failed sync, the limiter decides locally for this long before asking Redis again.
REDIS_RETRY_SECONDS = 1.0
#: At most one "Redis unreachable" warning per this many seconds.
WARNING_INTERVAL_SECONDS = 10.0

_ROUNDING = 1e-9  # weighted counts are floats: 3 × (1 − 1/3) must still fit in 2

PERIOD_SECONDS = {"day": 86400, "hour": 3600, "minute": 60, "second": 1}
_LIMIT = re.compile(r"(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?", re.IGNORECASE)

refusals = metrics.counter(
    "gateway_rate_limit_refusals_total", "Requests refused by a client's rate limit (429)", ("kind",)
)


@dataclass(frozen=True)
class RateLimit:
    """At most `count` requests per `period_seconds` (sliding window)."""

    count: int
    period_seconds: int

    def __str__(self) -> str:
        for unit, seconds in PERIOD_SECONDS.items():
            if self.period_seconds % seconds == 0:
                units = self.period_seconds // seconds
                return f"{self.count} per {unit}" if units == 1 else f"{self.count} per {units} {unit}s"
        raise AssertionError("every period is a whole number of seconds")


def parse_limit(text: str) -> RateLimit | None:
    """ "600/minute", "10 per second", "10/5 minutes" (second, minute, hour, day); empty = None (no limit).
    Raises ValueError for anything else."""
    if not text.strip():
        return None
    match = _LIMIT.fullmatch(text.strip())
    if match is None:
        raise ValueError(f'{text!r} is not a rate limit like "600/minute" or "10/5 minutes"')
    count, units, unit = int(match[1]), int(match[2] or 1), match[3].lower()
    if count < 1 or units < 1:
        raise ValueError(f"{text!r}: the count and the period must be at least 1")
    return RateLimit(count, units * PERIOD_SECONDS[unit])


@dataclass(eq=False)
class _Window:
    """One client's requests in one window, as this process knows them."""

    index: int
    previous: float = 0  # the previous window's total
    shared: int = 0  # this window's total in Redis at the last sync, this process's sent hits included
    sending: int = 0  # hits of the sync in flight
    pending: int = 0  # hits admitted here and not sent yet (-1: a hit a sync sent, then refused)
    carry: int = 0  # hits of the previous window never sent; go with this window's first sync
    synced_at: float = -math.inf
    syncing: bool = False

    @property
    def count(self) -> int:
        return self.shared + self.sending + self.pending

    def estimate(self, elapsed_share: float) -> float:
        return self.previous * (1 - elapsed_share) + self.count

    def fits(self, limit: RateLimit, elapsed_share: float) -> bool:
        return self.estimate(elapsed_share) <= limit.count + _ROUNDING

    def admit(self, limit: RateLimit, elapsed_share: float) -> bool:
        """Count one request if the local view has room for it."""
        self.pending += 1
        if self.fits(limit, elapsed_share):
            return True
        self.pending -= 1
        return False

    def seconds_until_room(self, limit: RateLimit, elapsed_share: float) -> int:
        """Whole seconds (at least 1) until the estimate, with no more requests, leaves room for one."""
        period, room, current = limit.period_seconds, limit.count - 1, self.count
        if current <= room:  # within this window, as the previous window's weight fades
            wait = period * (1 - (room - current) / self.previous - elapsed_share)
        else:  # in the next window, where this one's count is the fading previous
            wait = period * (2 - room / current - elapsed_share)
        return max(1, math.ceil(wait - _ROUNDING))

    def next(self, index: int) -> _Window:
        if index != self.index + 1:
            return _Window(index)
        return _Window(index, previous=self.count, carry=self.pending)


@lru_cache(maxsize=1024)
def _own_limit(text: str) -> RateLimit | None:
    """A credential's own limit, parsed once per text (it was checked when the credential was made)."""
    return parse_limit(text)


class RateLimiter:
    """Counts each client's requests against its own limit or else its kind's, in `redis` (the app's client: standalone,
    cluster or the embedded store). `limits_by_kind` maps a kind of client to its limit ("600/minute" or a
    RateLimit; empty or missing = unlimited). `clock` is wall time, as every process must agree on windows."""

    def __init__(
        self,
        redis: Any,
        limits_by_kind: Mapping[str, str | RateLimit | None],
        *,
        sync_seconds: float = 0.05,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._limits = {
            kind: parse_limit(limit) if isinstance(limit, str) else limit for kind, limit in limits_by_kind.items()
        }
        self._sync_seconds = sync_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._redis_retry_at = -math.inf
        self._warned_at = -math.inf

    def check(self, credential: Credential | None) -> None:
        """Count a request of `credential`; raise a 429 Problem (not counted) when over its limit: its own,
        else its kind's. Public views (no credential) and this process's own in-process service key are never
        limited."""
        if credential is None or credential.process_local:
            return
        limit = _own_limit(credential.rate_limit) if credential.rate_limit else self._limits.get(credential.kind)
        if limit is None:
            return
        retry_after = self.acquire(credential.client_id, limit)
        if retry_after:
            refusals.labels(credential.kind).inc()
            raise Problem(
                429,
                f"This client's rate limit of {limit} is used up; retry in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )

    def acquire(self, client_id: str, limit: RateLimit) -> int:
        """Count one request of `client_id`: 0 if within `limit`, else (uncounted) the whole seconds, at
        least 1, until the estimate leaves room for it."""
        now = self._clock()
        period = limit.period_seconds
        index = int(now // period)
        elapsed_share = now / period - index
        with self._lock:
            window = self._windows.get(client_id)
            if window is None or window.index != index:
                window = self._windows[client_id] = _Window(index) if window is None else window.next(index)
            admitted = window.admit(limit, elapsed_share)
            # A refusal needs no fresh view (other processes' hits could only add to it), just hits to send.
            sync_due = (
                not window.syncing
                and now - window.synced_at >= self._sync_seconds
                and now >= self._redis_retry_at
                and (admitted or window.pending or window.carry)
            )
            if not sync_due:
                return 0 if admitted else window.seconds_until_room(limit, elapsed_share)
            window.syncing = True
            sending, carry = window.pending, window.carry
            window.sending, window.pending, window.carry = sending, 0, 0
        totals = self._send(client_id, index, period, sending, carry)
        with self._lock:
            window.syncing, window.sending = False, 0
            if totals is None:
                window.pending += sending
                window.carry += carry
                self._redis_retry_at = now + REDIS_RETRY_SECONDS
            else:
                window.shared, previous = totals
                window.previous = max(window.previous, previous)
                window.synced_at = now
            if admitted and not window.fits(limit, elapsed_share):
                window.pending -= 1  # sent already: taken back at the next sync
                admitted = False
            return 0 if admitted else window.seconds_until_room(limit, elapsed_share)

    def _send(self, client_id: str, index: int, period: int, hits: int, carry: int) -> tuple[int, int] | None:
        """Add `hits` to the client's counter of window `index` (`carry` to the previous one); (current,
        previous) totals, or None when Redis failed."""
        current_key, previous_key = _counter_key(client_id, index), _counter_key(client_id, index - 1)
        try:
            pipeline = self._redis.pipeline(transaction=False)
            pipeline.incrby(current_key, hits)
            pipeline.expire(current_key, 2 * period)
            if carry:
                pipeline.incrby(previous_key, carry)
                pipeline.expire(previous_key, 2 * period)
            else:
                pipeline.get(previous_key)  # INCRBY 0 would create it without an expiry
            replies = pipeline.execute()
        except (RedisError, OSError) as error:
            self._warn(error)
            return None
        return int(replies[0]), int(replies[2] or 0)

    def _warn(self, error: Exception) -> None:
        now = self._clock()
        with self._lock:
            if now - self._warned_at < WARNING_INTERVAL_SECONDS:
                return
            self._warned_at = now
        logger.warning(
            "rate limits: Redis failed (%s: %s); each process counts on its own until it answers",
            type(error).__name__,
            error,
        )


def _counter_key(client_id: str, index: int) -> str:
    # The hash tag keeps a client's windows on one cluster slot, so one pipeline reaches one node.
    return f"ratelimit:{{{client_id}}}:{index}"


class LimitSettings(Protocol):
    """What the limiter reads of the settings (shared.config.SharedSettings has it; this module does not
    import that one, which checks its limits with `parse_limit` from here)."""

    @property
    def rate_limit_sync_seconds(self) -> float: ...

    @property
    def rate_limits(self) -> Mapping[str, str]: ...

    @property
    def auth_failure_limit(self) -> str: ...


def create_limiter_for(settings: LimitSettings, redis: Any) -> RateLimiter:
    """The limiter of the RATE_LIMIT_* settings, counting in `redis` (the app's client)."""
    return RateLimiter(redis, dict(settings.rate_limits), sync_seconds=settings.rate_limit_sync_seconds)


class FailedKeyThrottle:
    """Invalid API keys per source address (AUTH_FAILURE_LIMIT): beyond `limit` in one window, each further
    one from that address answers 429 with Retry-After until the window ends, so guessing keys or hammering
    with a revoked one costs the guesser time instead of the gateway's Redis. A valid key is never held
    back, nor is another address. Counted in Redis (`authfail:{<address>}:<window>`, fixed windows), so
    every worker and API of a deployment shares the count. The address is the peer the server sees
    (behind a proxy, the proxy's: size the limit for every client behind it)."""

    def __init__(self, redis: Any, limit: RateLimit | None, *, clock: Callable[[], float] = time.time) -> None:
        self._redis, self.limit, self._clock = redis, limit, clock

    def count_failure(self, address: str) -> None:
        """Count an invalid key from `address`; Problem 429 when that is beyond the limit. Should Redis fail,
        the key is refused as usual (401), uncounted."""
        if self.limit is None:
            return
        period = self.limit.period_seconds
        now = self._clock()
        key = f"authfail:{{{address}}}:{int(now // period)}"
        try:
            pipeline = self._redis.pipeline(transaction=False)
            pipeline.incr(key)
            pipeline.expire(key, period)
            failures = int(pipeline.execute()[0])
        except (RedisError, OSError) as error:
            logger.warning("invalid-key throttle: Redis failed (%s: %s)", type(error).__name__, error)
            return
        if failures > self.limit.count:
            refusals.labels("invalid_key").inc()
            retry_after = max(1, math.ceil(period - now % period))
            raise Problem(
                429,
                f"Too many invalid API keys from this address (more than {self.limit}); "
                f"try again in {retry_after} s with a valid one.",
                type_slug="too-many-invalid-keys",
                headers={"Retry-After": str(retry_after)},
            )


def create_failed_key_throttle_for(settings: LimitSettings, redis: Any) -> FailedKeyThrottle:
    """The throttle of AUTH_FAILURE_LIMIT, counting in `redis` (the app's client)."""
    return FailedKeyThrottle(redis, parse_limit(settings.auth_failure_limit))
