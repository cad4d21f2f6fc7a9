"""The inventory process API's settings (environment variables; see shared.config)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import ONE_DAY, optional_text, setting

from .contract import ProcessApiSettings


@dataclass(frozen=True)
class InventorySettings(ProcessApiSettings):
    """The ledger's memory, reservation lifetimes, the sweeper, the near cache and the availability publisher."""

    near_cache_entries: int = setting(
        "NEAR_CACHE_ENTRIES",
        20000,
        "Redis keys (positions, catalogue and rule versions, the locations holding "
        "each SKU) each process keeps for availability reads, dropped the moment Redis reports a change "
        "(client-side caching; standalone Redis only); 0 = read Redis every time",
        int,
    )
    dedup_ttl_seconds: int = setting(
        "INVENTORY_DEDUP_TTL_SECONDS", 7 * ONE_DAY, "How long an applied event_id is remembered", int
    )
    delta_journal_seconds: int = setting(
        "INVENTORY_DELTA_JOURNAL_SECONDS", ONE_DAY, "How far back deltas are kept to re-apply on a snapshot", int
    )
    delta_journal_max: int = setting(
        "INVENTORY_DELTA_JOURNAL_MAX", 512, "Most deltas kept per position for snapshot re-application", int
    )
    max_clock_skew_seconds: int = setting(
        "MAX_CLOCK_SKEW_SECONDS",
        300,
        "How far ahead of the gateway's clock an event's occurred_at may be; events further ahead are "
        "dead-lettered as from_future (one of them would otherwise make every later event of its position stale)",
        int,
    )
    reservation_default_ttl_seconds: int = setting(
        "RESERVATION_DEFAULT_TTL_SECONDS", 900, "Reservation lifetime when the request gives none", int
    )
    max_hold_share: float = setting(
        "MAX_HOLD_SHARE",
        1.0,
        "Largest share (0 < x <= 1) of what a channel can sell of a SKU at a location or group that one "
        "cart or order (an external_ref) may hold, for channels the rule set's max_hold_share does not "
        "name; 1 = no cap",
        float,
    )
    max_refused_reservations_per_day: int = setting(
        "MAX_REFUSED_RESERVATIONS_PER_DAY",
        10000,
        "Refused reservations kept for audit per client and UTC day; beyond it a refusal is answered "
        "as ever but not stored",
        int,
    )
    sweeper_interval_seconds: float = setting(
        "SWEEPER_INTERVAL_SECONDS", 0.5, "How often expired reservations are released", float
    )
    publisher_window_ms: int = setting(
        "PUBLISHER_WINDOW_MS", 200, "Coalescing window of the availability publisher (ms)", int
    )
    # How fast a standby takes over from a publisher that died: within the lease, plus a renewal
    # interval to notice, plus one window and one send (1 + 0.25 + 0.2 + a send: under 2 s). A
    # renewal is one Redis round trip (well under a millisecond) and a Python GC pause a few tens of
    # milliseconds, so renewing four times a lease leaves it to lapse only after some 0.75 s without
    # a renewal getting through: a stalled process or Redis, when handing over is right. Should a
    # hold end too early all the same, the fencing token keeps the two publishers apart.
    publisher_lease_seconds: float = setting(
        "PUBLISHER_LEASE_SECONDS",
        1.0,
        "How long the availability publisher's lease lasts unrenewed: a standby takes over about this "
        "long after the active publisher dies",
        float,
    )
    publisher_lease_renew_seconds: float = setting(
        "PUBLISHER_LEASE_RENEW_SECONDS",
        0.25,
        "How often the active publisher renews its lease, and a standby tries to take it "
        "(at most a third of the lease)",
        float,
    )
    replay_ttl_seconds: int = setting(
        "REPLAY_TTL_SECONDS",
        3600,
        "How long the keys `inventory-gateway replay` rebuilds live before Redis drops them",
        int,
    )
    salesforce_system_url: str | None = setting(
        "SALESFORCE_SYSTEM_URL",
        None,
        "Base URL of the Salesforce system API (split shape); unset = in-process",
        optional_text,
    )

    def check(self) -> None:
        super().check()
        self.require(self.near_cache_entries >= 0, "near_cache_entries", "must be >= 0")
        self.require(self.max_clock_skew_seconds >= 0, "max_clock_skew_seconds", "must be >= 0")
        self.require_at_least_one(
            "dedup_ttl_seconds",
            "delta_journal_seconds",
            "delta_journal_max",
            "reservation_default_ttl_seconds",
            "publisher_window_ms",
            "replay_ttl_seconds",
        )
        self.require(
            self.reservation_max_ttl_seconds >= self.reservation_default_ttl_seconds,
            "reservation_max_ttl_seconds",
            f"must be >= {self.env('reservation_default_ttl_seconds')}",
        )
        self.require_positive("sweeper_interval_seconds")
        self.require(0.1 <= self.publisher_lease_seconds <= 60, "publisher_lease_seconds", "must be between 0.1 and 60")
        self.require(
            0 < self.publisher_lease_renew_seconds <= self.publisher_lease_seconds / 3,
            "publisher_lease_renew_seconds",
            f"must be > 0 and at most a third of {self.env('publisher_lease_seconds')}, so two renewals may fail "
            "before the lease lapses",
        )
        self.require(0 < self.max_hold_share <= 1, "max_hold_share", "must be > 0 and <= 1")
        self.require(self.max_refused_reservations_per_day >= 0, "max_refused_reservations_per_day", "must be >= 0")
