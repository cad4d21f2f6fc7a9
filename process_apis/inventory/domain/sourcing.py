"""Sourcing: which locations of a group fill a reservation line, and how it is split.

`priority` takes from members in the group's order; `most_available` from the member with the
most sellable stock first (ties keep the group's order). Either may split a line. The Lua hold
script follows the same rule inside its atomic step; this is its reference model.
"""

from __future__ import annotations


def source_line(candidates: list[tuple[str, int]], quantity: int, strategy: str) -> list[tuple[str, int]]:
    """Split `quantity` over (location, available) candidates; may return less than asked."""
    ordered = candidates
    if strategy == "most_available":
        ordered = sorted(candidates, key=lambda c: -c[1])  # stable: ties keep group order
    taken, remaining = [], quantity
    for location, available in ordered:
        if remaining == 0:
            break
        take = min(available, remaining)
        if take > 0:
            taken.append((location, take))
            remaining -= take
    return taken
