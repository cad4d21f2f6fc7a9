"""The availability publisher: sends `availability.changed` outcomes to the Salesforce system API.

Runs as a daemon thread inside `serve` and in `inventory-gateway worker`. It reads the change
stream (adapters/changes.py) as a consumer group and coalesces per SKU over a short window
(PUBLISHER_WINDOW_MS, opening when the window's first change was recorded, at most half a window
before it was read; wider while the system API asks to slow down). Then, a chunk of SKUs at a
time, it computes every outcome key's value *now* (publishing/values.py), sends the keys whose
value differs from what was last published (publishing/sender.py), and acknowledges the stream
entries only once the system API answered 200.
A crash or restart loses nothing: unacknowledged entries stay pending and the next publisher claims
them and computes again; the keys of a batch in flight are marked unconfirmed until its 200, so a
batch the receiver took from a publisher that died is sent again.

Rule-set and catalogue changes are not recorded per request: the publisher compares their
versions with those it last published in full and computes every SKU again when they moved (or
a time-boxed allocation began or ended). No crash can part such a write from its record, and an
edit touching every SKU costs the API nothing.

Never an older value after a newer one for a key: only one publisher is active across every
process and worker, the holder of a Redis lease (publishing/heartbeat.py: a short lease,
PUBLISHER_LEASE_SECONDS, renewed by a thread every PUBLISHER_LEASE_RENEW_SECONDS, so a standby takes
over within about a lease of the holder's death). It sends one batch at a time, each computed
after the one before was acknowledged, so a key's values go out in the order they were computed.
A batch refused (503, unreachable) is kept and sent again unchanged, with the same
Idempotency-Key, before anything newer; one refused for good (a contract bug: 400, 413, 422) is
dead-lettered instead of blocking every later one. Every batch carries the lease's fencing token,
which grows with every take of the lease; the hold is checked before every send and again before
a batch is recorded or its entries acknowledged. A send may still outlive the hold (a paused
process, a slow call): the Salesforce system API therefore refuses a batch whose token is below
one it has seen and fences every key by token and as_of (system_apis/salesforce/fence.py).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime

from shared import metrics
from shared.auth import tier_api_key
from shared.tier_client import TierClient, tier_options

from .bootstrap import Inventory
from .domain.outcomes import GONE, rule_window_passed
from .publishing import contract
from .publishing.coalescing import Pace, PendingChanges, recorded_ago
from .publishing.heartbeat import Heartbeat
from .publishing.sender import LeaseLost, Sender, Stopped
from .publishing.values import current_values
from .settings import InventorySettings

log = logging.getLogger(__name__)

READ_COUNT = 1000
SKUS_PER_READ = 100
#: Longest wait for new changes in one read (and for the lease, standing by); under the Redis
#: socket timeout, and short enough that a lost lease or a stop is noticed soon.
IDLE_BLOCK_SECONDS = 0.5

PENDING = metrics.gauge(
    "inventory_publish_pending_changes", "SKUs changed and not yet published", multiprocess_mode="livemax"
)
ACTIVE = metrics.gauge(
    "inventory_publisher_active", "1 in the process holding the publisher lease", multiprocess_mode="livesum"
)


def tier_from_settings(settings: InventorySettings) -> TierClient | None:
    """The client of the Salesforce system API at SALESFORCE_SYSTEM_URL; None when it is not set."""
    if not settings.salesforce_system_url:
        return None
    return TierClient(
        "salesforce-system",
        settings.salesforce_system_url,
        **tier_options(settings),
        api_key=tier_api_key(settings, over_http=True),
    )


def _ms_now() -> int:
    return time.time_ns() // 1_000_000


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _occurred(ms: int | None) -> datetime | None:
    """When the change a value follows happened, if known."""
    return None if ms is None else _instant(ms)


class Publisher:
    """One process's publisher; active while it holds the lease (see the module docstring)."""

    def __init__(
        self,
        inventory: Inventory,
        tier: TierClient,
        *,
        window_ms: int | None = None,
        max_window_ms: int = 5000,
        slow_down_factor: int = 10,
        lease_seconds: float | None = None,
        renew_seconds: float | None = None,
        skus_per_read: int = SKUS_PER_READ,
        batch_size: int = contract.MAX_OUTCOMES,
        consumer: str | None = None,
    ) -> None:
        self.inventory = inventory
        self.tier = tier
        base = window_ms if window_ms is not None else inventory.settings.publisher_window_ms
        self.pace = Pace(base, factor=slow_down_factor, max_ms=max_window_ms)
        settings = inventory.settings
        self.lease_seconds = lease_seconds or settings.publisher_lease_seconds
        self.heartbeat = Heartbeat(
            inventory.leases.publisher(self.lease_seconds),
            lease_seconds=self.lease_seconds,
            renew_seconds=min(renew_seconds or settings.publisher_lease_renew_seconds, self.lease_seconds / 3),
        )
        self.consumer = consumer or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.skus_per_read = skus_per_read
        self.batch_size = min(batch_size, contract.MAX_OUTCOMES)
        self.sender = Sender(inventory, tier, self.pace, fence=self.fence)
        self.pending = PendingChanges()
        self.joined = False
        self.tenure: int | None = None  # the fencing token of the lease held when it joined
        self.checked_at = 0.0  # ... and the rules, catalogue and stream bound last checked

    # -- the loop ---------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        log.info(
            "availability publisher started",
            extra={
                "consumer": self.consumer,
                "window_ms": self.pace.base_ms,
                "lease_seconds": self.lease_seconds,
                "renew_seconds": self.heartbeat.renew_seconds,
            },
        )
        self.heartbeat.start()
        try:
            while not stop.is_set():
                try:
                    self.step(stop)
                except Stopped:
                    break
                except LeaseLost:
                    log.warning("publisher lease lost; standing by", extra={"consumer": self.consumer})
                    self.joined = False
                except Exception:
                    # Redis or the system API gone, a bug: start again from what is pending in Redis.
                    log.exception("availability publishing failed; starting again shortly")
                    self.joined = False
                    stop.wait(1.0)
        finally:
            self.release()

    def step(self, stop: threading.Event) -> None:
        """Hold the lease, read new changes, and publish once the window is over.

        Once a window is open the publisher sleeps to its end and then reads everything that came
        in one go: under load, waking for every single change (and renewing the lease and checking
        versions each time) would cost more CPU than the changes themselves, in the process that
        also serves the APIs."""
        window = self.pace.window_seconds
        token = self.lease_token()
        if token is None:
            self.joined = False
            self.heartbeat.taken.clear()
            if self.heartbeat.token() is None:  # not taken meanwhile: wait until it is
                self.heartbeat.taken.wait(IDLE_BLOCK_SECONDS)
            return
        if not self.joined or token != self.tenure:  # a new hold: a predecessor may have sent since
            self.join()
        remaining = self.pending.remaining(time.monotonic(), window)
        if len(self.pending) and remaining > 0:
            stop.wait(remaining)
            block_ms = None  # the window is over: take what is there, do not wait for more
        else:
            block_ms = max(1, int(min(remaining, IDLE_BLOCK_SECONDS) * 1000))
        self.take_in(self.inventory.changes.read(self.consumer, count=READ_COUNT, block_ms=block_ms))
        if time.monotonic() - self.checked_at >= min(window, IDLE_BLOCK_SECONDS):
            self.check_stream_and_versions()
        PENDING.set(len(self.pending))
        if self.pending.due(time.monotonic(), window):
            self.flush(stop)

    # -- the lease and the group --------------------------------------------------------------
    @property
    def held(self) -> bool:
        return self.heartbeat.token() is not None

    def lease_token(self) -> int | None:
        """The fencing token of the lease this process holds now, None when it holds none (its
        thread keeps it; a publisher whose steps are run without the thread renews it here)."""
        if not self.heartbeat.running:
            self.heartbeat.beat_if_due()
        token = self.heartbeat.token()
        ACTIVE.set(0 if token is None else 1)
        return token

    def keep_lease(self) -> bool:
        """Whether this publisher still holds the lease it joined under (before joining: any)."""
        token = self.lease_token()
        return token is not None and (not self.joined or token == self.tenure)

    def fence(self) -> int | None:
        """The fencing token batches go out under: the one joined under, while it is still held."""
        return self.tenure if self.joined and self.keep_lease() else None

    def release(self) -> None:
        self.heartbeat.release()  # a successor need not wait for the lease to lapse
        self.joined = False
        ACTIVE.set(0)

    def join(self) -> None:
        """Become the group's reader: claim every pending entry; recompute everything if some were missed."""
        self.tenure = self.heartbeat.token()
        missed, claimed = self.inventory.changes.join(self.consumer)
        self.pending = PendingChanges()
        self.take_in(claimed)
        if missed:
            self.pending.add_everything(_ms_now(), {}, time.monotonic())
        self.joined = True
        log.info(
            "availability publisher active",
            extra={"consumer": self.consumer, "claimed": len(claimed), "recompute_all": missed, "fence": self.tenure},
        )

    def take_in(self, changes: list) -> None:
        """Add changes just read to what is pending, each window opening when its change was recorded."""
        now, wall_ms = time.monotonic(), _ms_now()
        for change in changes:
            self.pending.add(change, now, recorded_ago=recorded_ago(change.entry_id, wall_ms, self.pace))

    def check_stream_and_versions(self) -> None:
        """Every SKU is due when changes were trimmed before being read, when the rules or the
        catalogue moved since last published in full, or a time-boxed allocation began or ended since."""
        self.checked_at = time.monotonic()
        if self.inventory.changes.trimmed_unread():
            log.warning("availability changes were trimmed before being read; computing every SKU again")
            self.pending.add_everything(_ms_now(), {}, time.monotonic())
        seen = self.inventory.published.versions()
        now_ms = _ms_now()
        versions = {"catalogue": str(seen.catalogue or 0), "rules": str(seen.rules or 0)}
        _, _, rules = self.inventory.rules.current(seen.rules)
        published = seen.published
        moved = any(published.get(name) != value for name, value in versions.items())
        if moved or rule_window_passed(rules, _instant(int(published.get("at", 0))), _instant(now_ms)):
            self.pending.add_everything(now_ms, {**versions, "at": str(now_ms)}, time.monotonic())

    # -- publishing -----------------------------------------------------------------------------
    def flush(self, stop: threading.Event) -> None:
        """Publish what is pending, then acknowledge its entries."""
        pending, inventory = self.pending, self.inventory
        everything = pending.everything_since is not None
        skus = inventory.ledger.all_skus() if everything else sorted(pending.skus)
        waiting: list[contract.Outcome] = []
        for start in range(0, len(skus), self.skus_per_read):
            if not self.keep_lease():  # computing every SKU may take longer than the lease
                raise LeaseLost
            waiting += self.changed_outcomes(skus[start : start + self.skus_per_read], pending)
            while len(waiting) >= self.batch_size:
                self.sender.send(waiting[: self.batch_size], stop)
                waiting = waiting[self.batch_size :]
        if waiting:
            self.sender.send(waiting, stop)
        if not self.keep_lease():  # a successor has claimed these entries and computes them again
            raise LeaseLost
        inventory.changes.acknowledge(pending.entry_ids)
        if everything and pending.versions:
            inventory.published.store_versions(pending.versions)
        self.pending = PendingChanges()
        PENDING.set(0)

    def changed_outcomes(self, skus: list[str], pending: PendingChanges) -> list[contract.Outcome]:
        """The outcomes of `skus` whose value moved since last published, valued now."""
        now = datetime.now(UTC)
        values = current_values(self.inventory, skus, now)
        last = self.inventory.published.read(skus)
        outcomes = [
            contract.Outcome(key, value, now, _occurred(pending.occurred_ms(key.sku)))
            for key, value in values.items()
            if last.get(key) != value
        ]
        outcomes += [
            contract.Outcome(key, GONE, now, _occurred(pending.occurred_ms(key.sku)), retired=True)
            for key in last.keys() - values.keys()
        ]
        return outcomes


def run(inventory: Inventory, tier: TierClient, stop: threading.Event, **options) -> None:
    """Publish until `stop` is set (options: see Publisher)."""
    Publisher(inventory, tier, **options).run(stop)


def start_in_background(
    inventory: Inventory, tier: TierClient, *, window_ms: int | None = None, **options
) -> threading.Event:
    """Run the publisher in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(
        target=run,
        args=(inventory, tier, stop),
        kwargs={"window_ms": window_ms, **options},
        name="availability-publisher",
        daemon=True,
    ).start()
    return stop
