"""Leases in Redis: a name one process at a time holds for a while and renews while it works, so a
background job (the availability publisher, the SAP gap check) is active in one process of many."""

from __future__ import annotations

from redis.exceptions import LockError


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
