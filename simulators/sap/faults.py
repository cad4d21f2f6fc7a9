"""Fault injection: slow or failing OData calls, and duplicated, reordered or dropped event pushes.

All randomness comes from one seeded `random.Random`, so a run with the same seed and the same
sequence of calls injects the same faults.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from simulators.fault_dice import SeededFaults

#: Numbers a server of a buffered number range holds at once, lost together when it restarts.
NUMBER_BUFFER = 10


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: int = 0  # added to every OData response
    error_rate: float = 0.0  # share of OData requests answered 503
    timeout_rate: float = 0.0  # share of OData requests held for timeout_seconds (then answered normally)
    timeout_seconds: float = 30.0  # how long a "timed out" request is held; set above the client's timeout
    duplicate_rate: float = 0.0  # share of event pushes delivered twice
    reorder: int = 0  # pushes held and shuffled in windows of this many (0 or 1: in order)
    reorder_max_hold_ms: int = 500  # a partly filled window is released after this long
    drop_rate: float = 0.0  # share of event pushes never delivered
    # share of postings before which the number range skips 1..NUMBER_BUFFER numbers, as S/4's
    # buffered number ranges do when a server's buffer is lost (those numbers never get a document)
    skip_number_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "timeout_rate", "duplicate_rate", "drop_rate", "skip_number_rate"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number between 0 and 1")
        for name in ("latency_ms", "reorder", "reorder_max_hold_ms", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        if not isinstance(self.timeout_seconds, (int, float)) or not 0 <= self.timeout_seconds <= 600:
            raise ValueError("timeout_seconds must be between 0 and 600")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RequestFault:
    delay_seconds: float = 0.0
    unavailable: bool = False


class FaultInjector(SeededFaults):
    """The current fault settings and the seeded dice they are rolled with."""

    settings_type = FaultSettings

    def for_request(self) -> RequestFault:
        with self._lock:
            s = self._settings
            delay = s.latency_ms / 1000
            if self._roll(s.timeout_rate):
                delay += s.timeout_seconds
            return RequestFault(delay, self._roll(s.error_rate))

    def copies_of_push(self) -> int:
        """How many times one push goes out: 0 (dropped), 1, or 2 (duplicated)."""
        with self._lock:
            if self._roll(self._settings.drop_rate):
                return 0
            return 2 if self._roll(self._settings.duplicate_rate) else 1

    def numbers_skipped(self) -> int:
        """How many document numbers the number range skips before the next posting's."""
        with self._lock:
            if self._roll(self._settings.skip_number_rate):
                return self._random.randint(1, NUMBER_BUFFER)
            return 0

    def shuffle(self, items: list) -> None:
        with self._lock:
            self._random.shuffle(items)
