"""The gaps in SAP's material-document numbers, kept in Redis: per MaterialDocumentYear the highest
number the gateway knows of, and each open gap (a range of numbers it has no document for) with the
reads that found it still open and when the next read is due.

SAP numbers material documents per year from a number range (MaterialDocument is a 10-character
string; numbers restart each year). A document the gateway has not got below the highest one it has
is a lost push, or a number SAP never used: buffered number ranges drop the rest of a buffer when a
server restarts, and a posting that fails after drawing its number leaves it unused. So a gap is read
until it fills or `max_reads` reads found it still open. Every key carries the hash tag {sap-gaps},
so the one script works on Redis Cluster too.
"""

from __future__ import annotations

import re
from pathlib import Path

from shared.leases import Lease

_SCRIPT = (Path(__file__).parent / "lua" / "document_gaps.lua").read_text()
_TAG = "{sap-gaps}"
HIGHEST_KEY = f"{_TAG}:highest"
LEASE_KEY = f"{_TAG}:check-lease"
#: MaterialDocument as SAP's number ranges give it: 10 digits (ALPHA-padded).
NUMBER = re.compile(r"\d{10}")
WIDTH = 10
#: Open gaps kept per year; beyond them the oldest are dropped (only a flood of lost pushes, far
#: beyond anything a stock sync would not be the better repair for, comes near it).
MAX_OPEN_GAPS = 10_000
#: How long a year's state outlives its last change: past the turn of the year and well beyond.
YEAR_SECONDS = 400 * 86400

Gap = tuple[int, int]  # (first, last) number, both missing


def document_number(number: int) -> str:
    return f"{number:0{WIDTH}d}"


class DocumentGaps:
    """One Redis's record of SAP's document numbers (see the module docstring)."""

    def __init__(self, redis, *, max_reads: int, check_seconds: float) -> None:
        self.redis, self.max_reads, self.check_seconds = redis, max_reads, check_seconds
        self._script = redis.register_script(_SCRIPT)

    def _keys(self, year: str) -> list[str]:
        return [HIGHEST_KEY, f"{_TAG}:{year}:open", f"{_TAG}:{year}:reads", f"{_TAG}:{year}:due"]

    def _due_ms(self, now: float) -> int:
        """A gap is first read a check interval after it opened: time for a push still in flight."""
        return int((now + self.check_seconds) * 1000)

    def arrived(self, year: str, number: str, *, now: float) -> int:
        """The gateway has document `number` of `year`: a number above the highest opens the gap below
        it; one inside a gap fills it. Numbers that are not 10 digits are not tracked. Returns how many
        old gaps were dropped to keep the bound."""
        if not NUMBER.fullmatch(number):
            return 0
        return int(self._note(year, int(number), int(number) - 1, now))

    def exists(self, year: str, number: str | None, *, now: float) -> int:
        """SAP has document `number` of `year` (None: none yet), the gateway maybe not: above the
        highest, the numbers up to and including it become a gap."""
        if number is None:
            return int(self._note(year, 0, -1, now))
        if not NUMBER.fullmatch(number):
            return 0
        return int(self._note(year, int(number), int(number), now))

    def _note(self, year: str, number: int, last: int, now: float):
        return self._script(
            keys=self._keys(year),
            args=["note", year, number, last, self._due_ms(now), MAX_OPEN_GAPS, YEAR_SECONDS],
        )

    def years(self) -> dict[str, int]:
        """Year -> highest number known, of every year tracked."""
        return {year: int(highest) for year, highest in self.redis.hgetall(HIGHEST_KEY).items()}

    def forget(self, year: str) -> None:
        self.redis.hdel(HIGHEST_KEY, year)
        for key in self._keys(year)[1:]:
            self.redis.delete(key)

    def open_gaps(self, year: str) -> list[Gap]:
        return [_bounds(gap) for gap in self.redis.zrange(self._keys(year)[1], 0, -1)]

    def due(self, year: str, *, now: float, limit: int = 100) -> list[Gap]:
        """The open gaps of `year` whose next read is due, oldest due first."""
        due = self.redis.zrangebyscore(self._keys(year)[3], "-inf", int(now * 1000), start=0, num=limit)
        return [_bounds(gap) for gap in due]

    def counted(self, year: str, gap: Gap, *, now: float) -> list[Gap]:
        """A read of `gap` is done (what it found has arrived): each part of it still open counts one
        read more and is due again a check interval later, or is closed at `max_reads`. Returns the
        parts closed."""
        closed = self._script(
            keys=self._keys(year),
            args=["counted", gap[0], gap[1], self.max_reads, self._due_ms(now), YEAR_SECONDS],
        )
        return [_bounds(part) for part in closed]

    def lease(self, seconds: float) -> Lease:
        """The gap check's lease: one process of many reads the gaps."""
        return Lease(self.redis, LEASE_KEY, seconds)


def _bounds(gap: str) -> Gap:
    first, _, last = gap.partition("-")
    return int(first), int(last)
