"""Fault injection for the org's REST API: latency, 503 SERVER_UNAVAILABLE, 429 with Retry-After,
records of a collection refused with UNABLE_TO_LOCK_ROW (lock contention), and access tokens that
die early. One seeded `random.Random` rolls every die, so the same seed
and the same sequence of calls give the same faults."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from simulators.fault_dice import SeededFaults


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# (fields, test, rule as the error message states it)
CHECKS = (
    (
        ("error_rate", "rate_limit_rate", "lock_contention_rate"),
        lambda v: _number(v) and 0 <= v <= 1,
        "a number between 0 and 1",
    ),
    (
        ("latency_ms", "retry_after_seconds", "seed"),
        lambda v: _number(v) and isinstance(v, int) and v >= 0,
        "a non-negative integer",
    ),
    (("expire_tokens_after_seconds",), lambda v: v is None or (_number(v) and v >= 0), "null or a non-negative number"),
    (("include_token_endpoint",), lambda v: isinstance(v, bool), "true or false"),
)


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: int = 0  # added before every REST answer
    error_rate: float = 0.0  # share of REST calls answered 503 SERVER_UNAVAILABLE
    rate_limit_rate: float = 0.0  # share of REST calls answered 429 with Retry-After
    retry_after_seconds: int = 1  # the Retry-After of a 429
    lock_contention_rate: float = 0.0  # share of collection records refused with UNABLE_TO_LOCK_ROW
    expire_tokens_after_seconds: int | None = None  # tokens die this long after issue (None: their TTL)
    include_token_endpoint: bool = False  # roll latency and 503 on the OAuth token endpoint too
    seed: int = 0

    def __post_init__(self) -> None:
        for names, valid, rule in CHECKS:
            for name in names:
                if not valid(getattr(self, name)):
                    raise ValueError(f"{name} must be {rule}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Verdict:
    """What the dice decided for one call."""

    delay_seconds: float = 0.0
    unavailable: bool = False
    rate_limited: bool = False


class Faults(SeededFaults):
    settings_type = FaultSettings

    def roll(self) -> Verdict:
        with self._lock:
            current = self._settings
            unavailable = self._roll(current.error_rate)
            limited = not unavailable and self._roll(current.rate_limit_rate)
            return Verdict(current.latency_ms / 1000, unavailable, limited)

    def row_locked(self) -> bool:
        """Whether one record of a collection meets a row lock held elsewhere (Salesforce refuses it
        with UNABLE_TO_LOCK_ROW; the same record succeeds when sent again once the lock is gone)."""
        with self._lock:
            return self._roll(self._settings.lock_contention_rate)
