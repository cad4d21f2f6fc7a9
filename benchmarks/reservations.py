"""Reservation creation at 32 concurrent clients on hot SKUs, then an oversell audit."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from .load import Connection, run_threads

PATH = "/inventory/v1/reservations"
HOT_SKUS = [f"HOT-{n:03d}" for n in range(20)]
TRIAL_SKUS = [f"TRIAL-{n:03d}" for n in range(20)]
LOW_SKUS = [f"LOW-{n:03d}" for n in range(4)]
SAFETY_UNITS = 2
GROUP = "BENCH-WEB"


@dataclass
class ReservationRun:
    seconds: float
    created: int
    refused: int
    other: dict[int, int]
    allocated: dict[tuple[str, str], int] = field(default_factory=dict)
    lines: int = 0
    #: (reservation id, Idempotency-Key, SKUs, external ref) of some created reservations
    samples: list[tuple[str, str, list[str], str]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return self.created + self.refused + sum(self.other.values())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def stock_events(
    locations: list[str], at: str, seed: int = 7, scarce: int = 3, skus: list[str] = HOT_SKUS
) -> tuple[list[dict], dict[tuple[str, str], int]]:
    """Counts for the hot SKUs: most positions plentiful, the first `scarce` SKUs short (so some
    requests are refused)."""
    rnd = random.Random(seed)
    events, on_hand = [], {}
    for n, sku in enumerate(skus):
        for location in locations:
            quantity = rnd.randint(8, 20) if n < scarce else rnd.randint(400, 800)
            on_hand[(sku, location)] = quantity
            events.append(
                {
                    "event_id": f"bench:hot:{sku}:{location}",
                    "type": "stock.counted",
                    "sku": sku,
                    "location": location,
                    "quantity": quantity,
                    "occurred_at": at,
                    "source": "sap",
                }
            )
    return events, on_hand


def _request(rnd: random.Random, locations: list[str], skus: list[str]) -> dict:
    count = 1 if rnd.random() < 0.5 else rnd.choice((2, 3))
    lines = []
    for sku in rnd.sample(skus, count):
        line = {"sku": sku, "quantity": rnd.randint(1, 3)}
        if rnd.random() < 0.2:
            line["location_group"] = GROUP
        else:
            line["location"] = rnd.choice(locations)
        lines.append(line)
    return {"channel": "web", "external_ref": f"CART-{rnd.randint(1, 10**9)}", "lines": lines}


def run(
    base_url: str, locations: list[str], *, clients: int, per_client: int, seed: int = 11, skus: list[str] = HOT_SKUS
) -> ReservationRun:
    def work(i: int):
        rnd = random.Random(seed * 1000 + i)
        connection = Connection(base_url, timeout=30)
        statuses: dict[int, int] = defaultdict(int)
        allocated: dict[tuple[str, str], int] = defaultdict(int)
        lines = 0
        samples = []
        for _ in range(per_client):
            body = _request(rnd, locations, skus)
            key = uuid.uuid4().hex
            status, reply = connection.json("POST", PATH, body, {"Idempotency-Key": key})
            statuses[status] += 1
            if status == 201:
                if len(samples) < 20:
                    samples.append(
                        (reply["id"], key, sorted({line["sku"] for line in body["lines"]}), body["external_ref"])
                    )
                for line in reply["lines"]:
                    lines += 1
                    for allocation in line["allocations"]:
                        allocated[(line["sku"], allocation["location"])] += allocation["quantity"]
        connection.close()
        return statuses, allocated, lines, samples

    seconds, results = run_threads(clients, work)
    statuses: dict[int, int] = defaultdict(int)
    allocated: dict[tuple[str, str], int] = defaultdict(int)
    lines = 0
    samples = []
    for part_statuses, part_allocated, part_lines, part_samples in results:
        samples += part_samples
        for status, count in part_statuses.items():
            statuses[status] += count
        for position, quantity in part_allocated.items():
            allocated[position] += quantity
        lines += part_lines
    created, refused = statuses.pop(201, 0), statuses.pop(409, 0)
    return ReservationRun(seconds, created, refused, dict(statuses), dict(allocated), lines, samples)


def audit(ledger, skus: list[str], locations: list[str], allocated: dict[tuple[str, str], int]) -> list[str]:
    """Oversell check: every position reserved ≤ on_hand − safety stock, and Σ 201 allocations == reserved."""
    problems = []
    pairs = [(sku, loc) for sku in skus for loc in locations]
    for position in ledger.positions(pairs):
        key = (position.sku, position.location)
        if position.reserved > position.on_hand - SAFETY_UNITS:
            problems.append(f"{key}: reserved {position.reserved} > on_hand {position.on_hand} - safety {SAFETY_UNITS}")
        if position.reserved != allocated.get(key, 0):
            problems.append(
                f"{key}: ledger reserved {position.reserved} != sum of 201 allocations {allocated.get(key, 0)}"
            )
    return problems
