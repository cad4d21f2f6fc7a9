"""Leases in Redis: a name one process at a time holds for a while and renews while it works;
the availability publisher's makes it the only active one across every process and worker."""

from __future__ import annotations

from redis.exceptions import LockError

from .keys import Keys


class Lease:
    """One process's claim on a lease of `seconds`. Each call says whether the process holds it."""

    def __init__(self, redis, key: str, seconds: float) -> None:
        self._lock = redis.lock(key, timeout=seconds, blocking=False, thread_local=False)

    def take(self) -> bool:
        """Hold the lease, if no other process does."""
        try:
            return bool(self._lock.acquire(blocking=False))
        except LockError:
            return False

    def extend(self) -> bool:
        """Hold the lease for its full length again from now; False when it was lost meanwhile
        (it expired, and another process may hold it now)."""
        try:
            self._lock.reacquire()
        except LockError:
            return False
        return True

    def release(self) -> None:
        """Let go, so a successor need not wait for the lease to lapse (nothing if it was lost)."""
        try:
            self._lock.release()
        except LockError:
            pass


class Leases:
    def __init__(self, redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    def publisher(self, seconds: float) -> Lease:
        """The availability publisher's lease, held `seconds` at a time."""
        return Lease(self.redis, self.keys.publisher_lease, seconds)
