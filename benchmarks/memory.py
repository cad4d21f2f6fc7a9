"""Redis bytes per position and per reservation, from MEMORY USAGE (SAMPLES 0: exact)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from .data import LOCATIONS

MEMORY_SKUS = [f"MEM-{n:04d}" for n in range(200)]
DELTAS_PER_POSITION = 10


def _usage(pipe_results) -> int:
    return sum(value or 0 for value in pipe_results)


def memory_usage(redis, keys: list[str]) -> int:
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    return _usage(pipe.execute())


def memory_day(start: datetime, seed: int = 5) -> list[dict]:
    """A count per position, then DELTAS_PER_POSITION movements each (a trading day), in time order."""
    rnd = random.Random(seed)
    stamp = lambda moment: moment.isoformat().replace("+00:00", "Z")  # noqa: E731
    events = [
        {
            "event_id": f"mem:count:{sku}:{loc}",
            "type": "stock.counted",
            "sku": sku,
            "location": loc,
            "quantity": rnd.randint(50, 500),
            "occurred_at": stamp(start),
            "source": "sap",
        }
        for sku in MEMORY_SKUS
        for loc in LOCATIONS
    ]
    clock = start
    for round_ in range(DELTAS_PER_POSITION):
        for sku in MEMORY_SKUS:
            for loc in LOCATIONS:
                clock += timedelta(milliseconds=3)
                issued = rnd.random() < 0.7
                event = {
                    "event_id": f"mem:{round_}:{sku}:{loc}",
                    "type": "stock.issued" if issued else "stock.received",
                    "sku": sku,
                    "location": loc,
                    "quantity": rnd.randint(1, 5) if issued else rnd.randint(5, 40),
                    "occurred_at": stamp(clock),
                    "source": "sap",
                }
                if issued:
                    event.update(reason="sale", reference=f"ORDER-{rnd.randint(1, 10**7)}")
                else:
                    event["reference"] = f"PO-{rnd.randint(1, 10**6)}"
                events.append(event)
    return events


@dataclass
class PositionMemory:
    positions: int
    position_hash: float
    journal: float
    journal_entries: float
    sets: float
    dedup: float
    log: float
    log_entries: float

    @property
    def state(self) -> float:
        return self.position_hash + self.journal + self.sets


def per_position(redis, keys, events: list[dict]) -> PositionMemory:
    locations_of = {sku: LOCATIONS for sku in MEMORY_SKUS}
    positions = [(sku, loc) for sku in MEMORY_SKUS for loc in locations_of[sku]]
    count = len(positions)
    hashes = memory_usage(redis, [keys.position(sku, loc) for sku, loc in positions])
    journals = memory_usage(redis, [f"{keys.sku_base(sku)}:jnl:{loc}" for sku, loc in positions])
    pipe = redis.pipeline(transaction=False)
    for sku, loc in positions:
        pipe.zcard(f"{keys.sku_base(sku)}:jnl:{loc}")
    journal_entries = sum(pipe.execute())
    # The per-SKU location set, shared by that SKU's positions, and this SKU's share of the SKU set.
    sku_sets = memory_usage(redis, [keys.sku_locations(sku) for sku in MEMORY_SKUS])
    all_skus = redis.scard(keys.skus)
    skus_share = memory_usage(redis, [keys.skus]) * len(MEMORY_SKUS) / max(all_skus, 1)
    dedup = memory_usage(redis, [f"{keys.sku_base(e['sku'])}:seen:{e['event_id']}" for e in events])
    logs = memory_usage(redis, [keys.log(sku) for sku in MEMORY_SKUS])
    pipe = redis.pipeline(transaction=False)
    for sku in MEMORY_SKUS:
        pipe.xlen(keys.log(sku))
    log_entries = sum(pipe.execute())
    return PositionMemory(
        count,
        hashes / count,
        journals / count,
        journal_entries / count,
        (sku_sets + skus_share) / count,
        dedup / count,
        logs / count,
        log_entries / count,
    )


@dataclass
class ReservationMemory:
    sampled: int
    header: float
    holds: float
    indexes: float
    idempotency: float

    @property
    def total(self) -> float:
        return self.header + self.holds + self.indexes


def per_reservation(redis, keys, samples: list[tuple[str, str, list[str], str]], client_id: str) -> ReservationMemory:
    """Header + per-SKU hold hashes + its share of the expiry index and its external-ref set;
    the stored Idempotency-Key response (kept per `client_id`) apart: it goes after a day."""
    n = len(samples)
    headers = memory_usage(redis, [keys.reservation(rid) for rid, _, _, _ in samples])
    holds = memory_usage(redis, [keys.hold(sku, rid) for rid, _, skus, _ in samples for sku in skus])
    expiry = memory_usage(redis, [keys.reservation_expiry]) / max(redis.zcard(keys.reservation_expiry), 1)
    refs = memory_usage(redis, [keys.reservations_by_ref(ref) for _, _, _, ref in samples])
    idem = memory_usage(redis, [f"idem:{{{client_id}:{key}}}" for _, key, _, _ in samples])
    return ReservationMemory(n, headers / n, holds / n, expiry + refs / n, idem / n)
