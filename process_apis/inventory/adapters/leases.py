"""The process API's leases (shared.leases.Lease): the availability publisher's makes it the only
active one across every process and worker, and its fencing token goes with every batch it sends."""

from __future__ import annotations

from shared.leases import Lease

from .keys import Keys


class Leases:
    def __init__(self, redis, keys: Keys) -> None:
        self.redis, self.keys = redis, keys

    def publisher(self, seconds: float) -> Lease:
        """The availability publisher's lease, held `seconds` at a time."""
        return Lease(self.redis, self.keys.publisher_lease, seconds, fence_key=self.keys.publisher_fence)
