"""Leases in Redis: a name one process at a time holds for a while and renews while it works, each
take numbered by a fencing token that only grows (lua/lease.lua). A background job (the availability
publisher, the SAP gap check) is so active in one process of many; the publisher also sends its
token with every batch, so a receiver can refuse a holder that paused past its lease."""

from __future__ import annotations

import uuid
from functools import cache
from pathlib import Path


@cache
def _source() -> str:
    return (Path(__file__).with_name("lua") / "lease.lua").read_text()


class Lease:
    """One holder's claim on the lease `key` of `seconds`. Its token counter is `fence_key` (default
    `<key>:fence`); on Redis Cluster both must share a slot, so give `key` a hash tag."""

    def __init__(self, redis, key: str, seconds: float, *, fence_key: str | None = None) -> None:
        self._script = redis.register_script(_source())
        self._keys = [key, fence_key or f"{key}:fence"]
        self.holder = uuid.uuid4().hex
        self.milliseconds = max(1, round(seconds * 1000))

    def _call(self, op: str) -> int:
        return int(self._script(keys=self._keys, args=[op, self.holder, self.milliseconds]))

    def take(self) -> int | None:
        """Hold the lease, if no other holder does: its new fencing token, higher than every earlier one."""
        return self._call("take") or None

    def extend(self) -> bool:
        """Hold the lease for its full length again from now; False when it was lost meanwhile
        (it expired, and another holder may have it now, under a higher token)."""
        return bool(self._call("extend"))

    def release(self) -> None:
        """Let go, so a successor need not wait for the lease to lapse (nothing if it was lost)."""
        self._call("release")
