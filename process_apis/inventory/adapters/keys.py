"""The Redis key layout. Every key of one SKU carries the hash tag {sku}, so one SKU's
positions, journals, holds, dedup marks and log live in one cluster slot (ids hold no braces:
domain/identifiers.py, so the hash tag stays whole)."""

from __future__ import annotations

import hashlib


class Keys:
    def __init__(self, prefix: str = "inv") -> None:
        self.prefix = prefix

    def sku_base(self, sku: str) -> str:
        return f"{self.prefix}:{{{sku}}}"

    def log(self, sku: str) -> str:
        return f"{self.sku_base(sku)}:log"

    def position(self, sku: str, location: str) -> str:
        return f"{self.sku_base(sku)}:pos:{location}"

    def sku_locations(self, sku: str) -> str:
        return f"{self.sku_base(sku)}:locs"

    def published(self, sku: str) -> str:
        """What the publisher last sent Salesforce for this SKU, per outcome key."""
        return f"{self.sku_base(sku)}:published"

    def incoming(self, sku: str, location: str) -> str:
        """Shipments towards a position, for their ETAs (written by lua/apply_events.lua)."""
        return f"{self.sku_base(sku)}:inc:{location}"

    def hold(self, sku: str, reservation_id: str) -> str:
        return f"{self.sku_base(sku)}:hold:{reservation_id}"

    @property
    def skus(self) -> str:
        return f"{self.prefix}:skus"

    def reservation(self, reservation_id: str) -> str:
        return f"{self.prefix}:res:{{{reservation_id}}}"

    def reservation_attempt(self, request_key: str) -> str:
        """The reservation the request with this (client-scoped) Idempotency-Key last made: a retry
        after the request died finds it there, to roll it back before holding again."""
        return f"{self.prefix}:res-attempt:{{{hashlib.sha256(request_key.encode()).hexdigest()}}}"

    def refused_reservations(self, client: str, day: str) -> str:
        """How many refused reservations of `client` were kept for audit on the UTC `day`."""
        return f"{self.prefix}:res-refused:{{{client}}}:{day}"

    # The reservation indexes share one slot (the hash tag {reservations}), so one script call
    # updates every index a reservation change touches, whatever its reference or locations.
    def reservations_by_ref(self, external_ref: str) -> str:
        return f"{self.prefix}:{{reservations}}:by-ref:{external_ref}"

    def reservations_at(self, location: str, channel: str | None = None) -> str:
        """Active reservations holding stock at `location` (all channels, or one)."""
        # A channel never holds ':' (api/common_schemas.Channel), so the two forms cannot collide.
        if channel:
            return f"{self.prefix}:{{reservations}}:at-ch:{channel}:{location}"
        return f"{self.prefix}:{{reservations}}:at:{location}"

    @property
    def reservation_expiry(self) -> str:
        return f"{self.prefix}:res-expiry"

    @property
    def locations(self) -> str:
        return f"{self.prefix}:catalogue:locations"

    @property
    def location_groups(self) -> str:
        return f"{self.prefix}:catalogue:groups"

    @property
    def catalogue_version(self) -> str:
        return f"{self.prefix}:catalogue:version"

    @property
    def rules(self) -> str:
        return f"{self.prefix}:rules"

    @property
    def availability_changes(self) -> str:
        # A global stream has its own slot, so no SKU's script can write it (see adapters/changes.py).
        return f"{self.prefix}:{{availability}}:changes"

    @property
    def publisher_lease(self) -> str:
        return f"{self.prefix}:{{availability}}:publisher"

    @property
    def publisher_fence(self) -> str:
        """The publisher lease's fencing-token counter (shared/lua/lease.lua), in the lease's slot."""
        return f"{self.prefix}:{{availability}}:publisher-fence"

    @property
    def published_versions(self) -> str:
        return f"{self.prefix}:{{availability}}:versions"

    def dead_letter(self, entry_id: str) -> str:
        return f"{self.prefix}:{{dlq}}:entry:{entry_id}"

    def dead_letter_index(self, status: str, reason: str | None = None) -> str:
        return f"{self.prefix}:{{dlq}}:{status}" + (f":{reason}" if reason else "")
