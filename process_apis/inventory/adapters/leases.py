"""Leases in Redis: a name one process at a time holds for a while and renews while it works, each
take numbered by a fencing token that only grows; the availability publisher's makes it the only
active one across every process and worker, and its token goes with every batch it sends."""

from __future__ import annotations

import uuid

from .keys import Keys
from .scripts import Scripts


class Lease:
    """One holder's claim on a lease of `seconds` (lua/lease.lua)."""

    def __init__(self, redis, scripts: Scripts, keys: tuple[str, str], seconds: float) -> None:
        self._script, self._keys = scripts["lease"], list(keys)
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


class Leases:
    def __init__(self, redis, keys: Keys, scripts: Scripts) -> None:
        self.redis, self.keys, self.scripts = redis, keys, scripts

    def publisher(self, seconds: float) -> Lease:
        """The availability publisher's lease, held `seconds` at a time."""
        return Lease(self.redis, self.scripts, (self.keys.publisher_lease, self.keys.publisher_fence), seconds)
