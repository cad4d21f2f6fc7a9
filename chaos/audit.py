"""What the chaos run keeps of its own (every event and reservation the gateway acknowledged) and
how it judges the gateway against it: plain Python, so the judgement is unit-tested."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

Position = tuple[str, str]  # (sku, location)


@dataclass
class EventLedger:
    """Every event the harness sent and what became of it; the expected on_hand follows from the
    acknowledged ones alone (an event applied twice, or applied without acknowledgement and then
    lost, shows as a difference)."""

    baseline: dict[Position, int] = field(default_factory=dict)
    sent: int = 0
    acknowledged: dict[str, tuple[Position, int]] = field(default_factory=dict)  # event id → (position, delta)
    refused: dict[str, str] = field(default_factory=dict)  # event id → outcome (stale, dead_lettered)
    unanswered: set[str] = field(default_factory=set)
    answered_at: list[float] = field(default_factory=list)  # monotonic times of 200 answers
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def expected(self) -> dict[Position, int]:
        totals = defaultdict(int, self.baseline)
        for position, delta in self.acknowledged.values():
            totals[position] += delta
        return dict(totals)


@dataclass
class ReservationLedger:
    """Every reservation request (one Idempotency-Key each) and its definite answer."""

    accepted: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # key → its lines (sku, units)
    refused: set[str] = field(default_factory=set)
    unanswered: set[str] = field(default_factory=set)
    answered_at: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def tried(self) -> int:
        return len(self.accepted) + len(self.refused) + len(self.unanswered)

    def held(self) -> dict[str, int]:
        """Units per SKU the acknowledged reservations hold."""
        totals: dict[str, int] = defaultdict(int)
        for lines in self.accepted.values():
            for sku, units in lines:
                totals[sku] += units
        return dict(totals)


def differences(expected: dict, observed: dict, *, default: int = 0) -> list[str]:
    """Every key whose observed value is not the expected one, as readable lines (empty: equal)."""
    return [
        f"{key}: expected {expected.get(key, default)}, gateway {observed.get(key, default)}"
        for key in sorted(set(expected) | set(observed), key=str)
        if expected.get(key, default) != observed.get(key, default)
    ]


def oversold(held: dict[str, int], sellable: dict[str, int]) -> dict[str, int]:
    """Units per SKU acknowledged beyond what could be sold (on_hand − safety stock)."""
    return {sku: units - sellable.get(sku, 0) for sku, units in held.items() if units > sellable.get(sku, 0)}


def recovery_seconds(answered_at: list[float], since: float) -> float | None:
    """Seconds from `since` to the first acknowledged answer after it (None: none came)."""
    later = [moment for moment in answered_at if moment >= since]
    return min(later) - since if later else None


@dataclass
class Row:
    """One line of the report: an injection, what was tried, what survived, what was lost, and the
    recovery time against its stated bound."""

    injection: str
    tried: int
    survived: int
    lost: int
    recovery: float | None = None
    bound: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        recovered = self.bound is None or (self.recovery is not None and self.recovery <= self.bound)
        return self.lost == 0 and self.survived == self.tried and recovered

    def cells(self) -> list[str]:
        recovery = "-" if self.recovery is None else f"{self.recovery:.2f} s"
        if self.bound is not None and self.recovery is None:
            recovery = "never"
        bound = "-" if self.bound is None else f"≤ {self.bound:g} s"
        return [
            self.injection,
            str(self.tried),
            str(self.survived),
            str(self.lost),
            recovery,
            bound,
            "ok" if self.ok else "FAILED",
        ]


HEADER = ["injection", "tried", "survived", "lost", "recovered in", "bound", "verdict"]


def table(rows: list[Row]) -> str:
    """The report as a Markdown table (it reads in a terminal and pastes into an issue)."""
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADER))]
    rendered = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths)) + " |" for line in lines]
    rendered.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(rendered)
