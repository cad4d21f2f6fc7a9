"""`make bench`, SAP section: goods movements end to end through the all-in-one gateway.

The gateway runs in the split shape (benchmarks/split.py: `inventory-gateway serve` with several
workers, the SAP and Salesforce simulators as processes of their own, its own redis-server), as a
real deployment runs; business events are pushed over HTTP to the gateway's webhook. Traffic
drivers (simulators/sap/driver.py, one thread each, each on its own materials so their stock views
stay right) post realistic retail movements to the simulator's OData API over HTTP at a steady
offered rate. Each movement travels: OData deep insert → business event →
webhook → OData read of the document → process API → one Lua call per SKU in Redis.

Freshness of a document = the time its last position update was committed − the time the driver
began the POST that created it. The commit time is the id of the event's entry in the SKU's log
(a Redis Stream, written by the same Lua call that changes the position, stamped with Redis's clock
in ms; same host, same clock as the driver's). Starting at the POST, not at SAP's creation stamp
(whole seconds), makes the figure conservative: it includes the OData POST itself. Nothing polls, so
the measurement adds no load.

    python -m benchmarks.run --only sap       # this section alone
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import redis as redis_lib
import requests
from prometheus_client.parser import text_string_to_metric_families

from gateway.settings import Settings
from process_apis.inventory.bootstrap import bootstrap
from simulators.sap.driver import ODataClient, TrafficDriver
from simulators.sap.seed import DC_PLANTS, DEMO_LOCATION_MAP, DEMO_MATERIALS
from tests.support.sap_gateway import ADMIN, ODATA, differences, gateway_table, sap_table

from .split import WORKERS, busy_cores, cpu_times, describe, flush_deliveries, start_split

#: offered movements per second -> driver threads posting them
RATES = {200: 16, 1000: 32}  # offered rate -> driver threads: enough that a slow POST does not lower the rate
WARMUP_SECONDS = 2
STEADY_SECONDS = 10
FRESHNESS_TARGET_MS = 500
DRAIN_TIMEOUT_SECONDS = 120


def say(message: str = "") -> None:
    print(message, flush=True)


class TimedODataClient(ODataClient):
    """The driver's OData client, noting when each created document's POST began."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.created: list[tuple[str, float]] = []  # (document number, wall time the POST began)

    def post_document(self, header, items):
        began = time.time()
        response = super().post_document(header, items)
        if response.status_code == 201:
            self.created.append((response.json()["d"]["MaterialDocument"], began))
        return response

    def cancel(self, year, number):
        began = time.time()
        response = super().cancel(year, number)
        if response.status_code == 200:
            self.created.append((response.json()["d"]["MaterialDocument"], began))
        return response


@dataclass
class RateRun:
    offered: int
    seconds: float = 0.0
    created: list[tuple[str, float]] = field(default_factory=list)  # every document of the run
    rejected: int = 0
    errors: int = 0
    skipped: int = 0
    stopped_at: float = 0.0  # wall time the drivers stopped
    drained_seconds: float = 0.0  # after the drivers stopped, until no push was pending


def drive(base_url: str, user: str, password: str, rate: int, threads: int, seconds: float) -> RateRun:
    """`threads` drivers, each at rate/threads ticks per second, on disjoint materials, for `seconds`."""
    run = RateRun(rate)
    interval = threads / rate
    results: list = [None] * threads
    ready = threading.Barrier(threads + 1)

    def work(index: int) -> None:
        client = TimedODataClient(f"{base_url}{ODATA}", user, password, timeout=30)
        driver = TrafficDriver(
            client, seed=1000 * rate + index, locations=tuple(DEMO_LOCATION_MAP), dc_plants=DC_PLANTS
        )
        driver.refresh()
        driver.materials = [m for n, m in enumerate(sorted(DEMO_MATERIALS)) if n % threads == index]
        ready.wait()
        started = time.monotonic()
        next_tick = started + interval * index / threads  # spread the threads' ticks evenly
        while time.monotonic() - started < seconds:
            now = time.monotonic()
            if next_tick > now:
                time.sleep(next_tick - now)
            next_tick = max(next_tick + interval, time.monotonic() - 1.0)
            driver.step()
        results[index] = (driver.result, client.created)

    workers = [threading.Thread(target=work, args=(i,), name=f"sap-driver-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    began = time.monotonic()
    for worker in workers:
        worker.join()
    run.seconds = time.monotonic() - began
    run.stopped_at = time.time()
    for result, created in results:
        run.created += created
        run.rejected += result.rejected
        run.errors += result.errors
        run.skipped += result.skipped
    return run


def commit_times(redis_url: str) -> dict[str, int]:
    """Document number → ms (Redis clock) when its last event was applied, from every SKU's log."""
    client = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    ledger = bootstrap(Settings(redis_url=redis_url), client).ledger
    latest: dict[str, int] = defaultdict(int)
    for sku in DEMO_MATERIALS:
        for entry_id, op, body in ledger.log_entries(sku):
            if op != "event":
                continue
            event_id = json.loads(body)["event_id"]
            if event_id.startswith("sap:"):  # sap:{year}:{document}:{item}; stock syncs are sap-sync:…
                number = event_id.split(":")[2]
                latest[number] = max(latest[number], int(entry_id.split("-")[0]))
    client.close()
    return latest


def document_reads(gateway_url: str) -> tuple[float, float]:
    """(OData reads of material documents, documents asked for in them) so far, from the gateway's
    /metrics (summed over its workers)."""
    answer = requests.get(f"{gateway_url}/metrics", timeout=10)
    answer.raise_for_status()
    values = {
        sample.name: sample.value for family in text_string_to_metric_families(answer.text) for sample in family.samples
    }
    return values.get("sap_document_reads_total", 0.0), values.get("sap_documents_read_total", 0.0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(bench, run: RateRun, committed: dict[str, int]) -> None:
    """Rows for one offered rate. Only the steady window counts (after the warm-up, until the drivers
    stopped); documents posted in it are followed until their positions were updated, however late."""
    window_start = run.stopped_at - run.seconds + WARMUP_SECONDS
    window_end = run.stopped_at
    seconds = window_end - window_start
    steady = [(number, began) for number, began in run.created if window_start <= began < window_end]
    freshness = [committed[number] - began * 1000 for number, began in steady if number in committed]
    missing = len(steady) - len(freshness)
    updated = sum(1 for number, _ in run.created if window_start * 1000 <= committed.get(number, 0) < window_end * 1000)
    posted_rate, updated_rate = len(steady) / seconds, updated / seconds
    late = sum(1 for number, _ in run.created if committed.get(number, 0) >= window_end * 1000)
    drain_rate = late / run.drained_seconds if run.drained_seconds >= 0.5 else None
    p50, p99 = (percentile(freshness, 0.5), percentile(freshness, 0.99)) if freshness else (float("nan"),) * 2
    say(
        f"  offered {run.offered}/s: {len(run.created)} documents posted ({run.skipped} ticks found nothing to "
        f"move, {run.rejected} rejected, {run.errors} errors); steady {seconds:.1f}s: posted {posted_rate:.0f}/s, "
        f"positions updated {updated_rate:.0f}/s; freshness p50 {p50:.0f} ms, p99 {p99:.0f} ms, max "
        f"{max(freshness, default=float('nan')):.0f} ms; backlog drained {run.drained_seconds:.1f}s after the "
        "drivers stopped" + (f" ({drain_rate:.0f} documents/s with no OData POSTs to serve)" if drain_rate else "")
    )
    keeps_up = posted_rate >= 0.9 * run.offered and updated_rate >= 0.95 * posted_rate
    bench.row(
        f"SAP movements end to end, offered {run.offered}/s",
        f"{updated_rate:,.0f} movements/s",
        "= posted (no backlog)",
        f"posted {posted_rate:,.0f}/s; updated {updated_rate / max(posted_rate, 1):.0%} of that",
    )
    target = run.offered == 200
    bench.row(
        "  freshness p50 / p99 (OData POST -> position committed)",
        f"{p50:,.0f} / {p99:,.0f} ms",
        f"p99 < {FRESHNESS_TARGET_MS} ms, keeping up" if target else "",
        f"{FRESHNESS_TARGET_MS / p99:.1f}x margin" if target and p99 > 0 else f"{len(freshness)} documents",
        (p99 < FRESHNESS_TARGET_MS and keeps_up and missing == 0) if target else None,
    )
    if missing:
        bench.notes.append(f"SAP at {run.offered}/s: {missing} documents of the steady window never reached a position")
        bench.broken = True
    if run.errors:
        bench.notes.append(f"SAP at {run.offered}/s: {run.errors} OData posts failed (5xx or timeouts)")


def run(bench, workers: int = WORKERS) -> None:
    """Measure at each offered rate, then check that the gateway's positions equal SAP's stock."""
    directory = Path(tempfile.mkdtemp(prefix="inventory-bench-sap-"))
    say(
        f"\n== SAP goods movements end to end, {describe(workers)}: offered "
        f"{' and '.join(f'{rate}/s' for rate in RATES)} for {WARMUP_SECONDS + STEADY_SECONDS}s each "
        f"(first {WARMUP_SECONDS}s warm-up), drivers posting over HTTP to the SAP simulator =="
    )
    stack = None
    try:
        stack = start_split(directory, workers=workers)
        sap = stack.sap
        for rate, threads in RATES.items():
            cpu, reads = cpu_times(stack), document_reads(stack.gateway.base_url)
            result = drive(sap.base_url, sap.user, sap.password, rate, threads, WARMUP_SECONDS + STEADY_SECONDS)
            say(f"  busy cores while the drivers ran at {rate}/s: {busy_cores(cpu, cpu_times(stack), result.seconds)}")
            flushed = flush_deliveries(stack, DRAIN_TIMEOUT_SECONDS)
            result.drained_seconds = time.time() - result.stopped_at
            read, asked = (after - before for after, before in zip(document_reads(stack.gateway.base_url), reads))
            say(
                f"  material documents per OData read of SAP: {asked / max(read, 1):.2f} ({read:.0f} reads; beyond "
                "SAP_READS_IN_FLIGHT reads at once per worker, waiting pushes share the next)"
            )
            if not flushed["idle"] or flushed["undeliverable"]:
                bench.notes.append(f"SAP at {rate}/s: pushes still pending or undeliverable: {flushed}")
                bench.broken = True
            report(bench, result, commit_times(stack.redis.url))
        snapshot = sap.session().get(f"{sap.base_url}{ADMIN}/stock", timeout=30).json()
        sap_stock = sap_table(snapshot, DEMO_LOCATION_MAP)
        drift = differences(sap_stock, gateway_table(stack.gateway.base_url, DEMO_MATERIALS, stack.gateway.api()))
        for line in drift[:10]:
            say(f"  DRIFT: {line}")
        bench.row(
            "SAP stock table == gateway positions after the runs",
            f"{len(drift)} differences / {len(sap_stock)} positions",
            "0",
            "per location and stock type",
            not drift,
        )
        bench.broken |= bool(drift)
        bench.notes.append(
            "SAP freshness: from the moment the driver began the OData POST to the Redis-clock time "
            "of the document's last event in the SKU's log (the position update); conservative"
        )
    finally:
        if stack is not None:
            stack.stop()
        shutil.rmtree(directory, ignore_errors=True)
