"""Salesforce record ids: 15 case-sensitive characters (key prefix, pod, counter) plus the
3-character suffix that makes them case-insensitive (18 characters in every API answer)."""

from __future__ import annotations

import itertools
import string
import threading

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
POD = "5g"  # the instance part of every id this org hands out


def checksum_suffix(id15: str) -> str:
    """Salesforce's suffix: per 5-character chunk, a bit per upper-case letter, read backwards."""
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, char in enumerate(chunk) if char in string.ascii_uppercase)
        suffix += SUFFIX_ALPHABET[bits]
    return suffix


def to_18(id15: str) -> str:
    return id15 + checksum_suffix(id15)


def normalise(record_id: str) -> str | None:
    """The 18-character form of a 15- or 18-character id; None when it cannot be an id."""
    if len(record_id) not in (15, 18) or any(c not in BASE62 for c in record_id):
        return None
    return to_18(record_id[:15])


def _base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, remainder = divmod(number, 62)
        digits = BASE62[remainder] + digits
    return digits.rjust(width, "0")


class IdSequence:
    """Hands out increasing ids per key prefix (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, itertools.count] = {}

    def next_id(self, key_prefix: str) -> str:
        with self._lock:
            number = next(self._counters.setdefault(key_prefix, itertools.count(1)))
        return to_18(f"{key_prefix}{POD}0{_base62(number, 9)}")
