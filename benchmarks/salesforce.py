"""`make bench`, Salesforce section: SAP goods movements to `Product_Availability__c` records, end to end.

The gateway runs in the split shape (benchmarks/split.py: `inventory-gateway serve` with several
workers, the SAP and Salesforce simulators as processes of their own, its own redis-server), as a real
deployment runs. The SAP section's drivers
(benchmarks/sap.py: same threads, rates and steady window) post movements over OData; each travels
OData → webhook → process API (Redis) → availability publisher (coalescing per SKU over
PUBLISHER_WINDOW_MS) → Salesforce system API → composite upsert in the Salesforce simulator.

Freshness of a document = the time the simulator wrote the last record change the document caused −
the time the driver began the OData POST that created it. Which write that is, per event of the
document (one per SKU and location it moved):
- its commit time `c`: the id of its entry in the SKU's log (Redis clock, ms; written by the same Lua
  call that changed the position);
- its keys: the records of its SKU at the locations it moved (a transfer's destination too) and of
  every location group holding one of them;
- the first computation that reflects it: the smallest `As_Of__c` > `c` among those keys' writes. The
  publisher stamps `As_Of__c` before it reads the values it sends, and the simulator cuts it to the ms,
  so a write with `As_Of__c` ≥ c + 1 ms was computed from Redis after the event was committed; a write
  stamped in the same ms is not counted, as it may not reflect it;
- the write time: the latest history `time` (simulator clock, ms, +1 ms for the cut) of those keys'
  writes of that computation, i.e. the last record it changed.
The document's figure is the latest of its events'. Every choice errs late: a computation that saw the
document but changed none of its keys leaves no trace, so its figure is taken from a later write (a
later document's). Events after which none of their keys was ever written again changed nothing
Salesforce shows (e.g. a position already at zero): they are left out of the document's figure, and
a document with only such events has none (it is counted instead). All clocks are this host's wall clock.

A second row gives the publisher's share: the last record write − the latest commit of the document's
events. The console line also gives each process's CPU time per second while the drivers ran (the
gateway's and the simulators' gunicorn workers included; 1.0 is a core full).

Salesforce API calls per 1,000 movements = the rise of the simulator's API usage counter (what its
daily limit counts) over a whole run, warm-up included, once the publisher has caught up, per document
posted in that run.

    python -m benchmarks.run --only salesforce       # this section alone
"""

from __future__ import annotations

import bisect
import json
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import redis as redis_lib
import requests

from gateway.settings import Settings
from process_apis.inventory.adapters.changes import GROUP
from process_apis.inventory.bootstrap import bootstrap
from simulators.salesforce.records import HISTORY_PER_RECORD
from simulators.sap.seed import DEMO_MATERIALS

# The end-to-end test's record-versus-gateway comparison, used as is so that both check the same thing.
from tests.support.salesforce_records import RECORDS, SALESFORCE_AUTH, SF_ADMIN, gateway_values, salesforce_records
from tests.support.sap_gateway import TIMEOUT, GatewayProcess

from .sap import DRAIN_TIMEOUT_SECONDS, RATES, STEADY_SECONDS, WARMUP_SECONDS, RateRun, drive, percentile, say
from .split import WORKERS, busy_cores, cpu_times, describe, flush_deliveries, start_split

FRESHNESS_TARGET_MS = 1000  # p99 at 200/s offered
CALLS_TARGET_RATE = 1000
CALLS_TARGET_RATIO = 10  # movements per Salesforce API call at CALLS_TARGET_RATE
CATCH_UP_TIMEOUT_SECONDS = 60
#: the publisher has caught up once the change stream is read and acknowledged and the API usage
#: counter stayed still this long (well over a window: a flush in progress would have shown)
QUIET_SECONDS = 1.0
SETTLE_SECONDS = 10
AUTH = SALESFORCE_AUTH


@dataclass(frozen=True)
class Movement:
    """One event of a SAP document as applied by the gateway."""

    document: str
    sku: str
    locations: tuple[str, ...]
    committed_ms: int


@dataclass(frozen=True)
class Write:
    as_of_ms: int
    time_ms: int


@dataclass
class RunTotals:
    """One rate's run: what the Salesforce simulator counted, how long the publisher took to catch up,
    how busy the gateway was."""

    calls: int
    caught_up_seconds: float  # after the drivers stopped
    busy_cores: str  # each process's CPU time while the drivers ran, per second (1.0: one core full)


def epoch_ms(text: str) -> int:
    """A simulator datetime ("2026-11-27T04:58:41.352+0000") in epoch ms."""
    return round(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def api_usage(base_url: str) -> int:
    answer = requests.get(f"{base_url}{SF_ADMIN}/usage", auth=AUTH, timeout=TIMEOUT)
    answer.raise_for_status()
    return answer.json()["used"]


def stream_caught_up(client: redis_lib.Redis, key: str, group: str) -> bool:
    """Every change entry delivered to the publisher and acknowledged (it acknowledges after the 200)."""
    pipe = client.pipeline(transaction=False)
    pipe.xinfo_stream(key)
    pipe.xinfo_groups(key)
    info, groups = pipe.execute()
    mine = [g for g in groups if g["name"] == group]
    return bool(mine) and mine[0]["pending"] == 0 and mine[0]["last-delivered-id"] == info["last-generated-id"]


def wait_caught_up(base_url: str, client: redis_lib.Redis, key: str, group: str) -> int:
    """Poll until the publisher has caught up (see QUIET_SECONDS); the API usage then."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_SECONDS
    used, still_since = api_usage(base_url), time.monotonic()
    while True:
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError(f"the availability publisher did not catch up within {CATCH_UP_TIMEOUT_SECONDS}s")
        current = api_usage(base_url)
        if current != used:
            used, still_since = current, now
        elif now - still_since >= QUIET_SECONDS and stream_caught_up(client, key, group):
            return used
        time.sleep(0.1)


def movements(client: redis_lib.Redis, settings: Settings) -> dict[str, list[Movement]]:
    """Document number → its events as applied, from every SKU's log."""
    ledger = bootstrap(settings, client).ledger
    found: dict[str, list[Movement]] = defaultdict(list)
    for sku in DEMO_MATERIALS:
        for entry_id, op, body in ledger.log_entries(sku):
            event = json.loads(body) if op == "event" else {}
            if not event.get("event_id", "").startswith("sap:"):  # sap:{year}:{document}:{item}[:leg]
                continue
            document = event["event_id"].split(":")[2]
            locations = tuple(filter(None, (event["location"], event.get("to_location"))))
            found[document].append(Movement(document, sku, locations, int(entry_id.split("-")[0])))
    return found


def location_groups(gateway: GatewayProcess) -> dict[str, tuple[str, ...]]:
    answer = gateway.api().get(f"{gateway.base_url}/inventory/v1/location-groups", timeout=TIMEOUT)
    answer.raise_for_status()
    return {group["id"]: tuple(group["members"]) for group in answer.json()}


class WriteIndex:
    """Every write of every Product_Availability__c record, by the SKU and location it covers."""

    def __init__(self, org_url: str, gateway: GatewayProcess) -> None:
        groups = location_groups(gateway)
        self.records = salesforce_records(org_url)
        self.backwards: list[str] = []  # records whose As_Of__c went back
        self.history_full = 0  # records whose history may have dropped old writes
        by_scope: dict[tuple[str, str], list[Write]] = defaultdict(list)
        for record in self.records:
            answer = requests.get(f"{org_url}{SF_ADMIN}/history/{RECORDS}/{record['Id']}", auth=AUTH, timeout=TIMEOUT)
            answer.raise_for_status()
            history = answer.json()
            writes = [Write(epoch_ms(e["fields"]["As_Of__c"]), epoch_ms(e["time"])) for e in history]
            if [w.as_of_ms for w in writes] != sorted(w.as_of_ms for w in writes):
                self.backwards.append(record["Availability_Key__c"])
            self.history_full += len(history) >= HISTORY_PER_RECORD
            place = record["Location__c"]
            covered = (place,) if record["Location_Type__c"] == "location" else groups.get(place, ())
            for location in covered:
                by_scope[(record["SKU__c"], location)] += writes
        self.scopes = {scope: sorted(writes, key=lambda w: w.as_of_ms) for scope, writes in by_scope.items()}
        self.as_of = {scope: [w.as_of_ms for w in writes] for scope, writes in self.scopes.items()}

    def written_ms(self, movement: Movement) -> int | None:
        """When the first computation reflecting `movement` was written (see the module docstring);
        None when none of its keys was written after it."""
        first, chosen = None, []
        for location in movement.locations:
            scope = (movement.sku, location)
            writes, stamps = self.scopes.get(scope, []), self.as_of.get(scope, [])
            start = bisect.bisect_right(stamps, movement.committed_ms)  # As_Of__c >= commit + 1 ms
            if start == len(writes):
                continue
            as_of = stamps[start]
            first = as_of if first is None else min(first, as_of)
            chosen += writes[start : bisect.bisect_right(stamps, as_of)]  # that computation's writes
        if first is None:
            return None
        return max(w.time_ms for w in chosen if w.as_of_ms == first) + 1  # the simulator cuts to the ms


def p50_p99(values: list[float]) -> tuple[float, float]:
    return (percentile(values, 0.5), percentile(values, 0.99)) if values else (float("nan"), float("nan"))


def report(bench, run: RateRun, totals: RunTotals, events: dict[str, list[Movement]], index: WriteIndex) -> None:
    """Rows for one offered rate: freshness over the steady window, API calls over the whole run."""
    window_start = run.stopped_at - run.seconds + WARMUP_SECONDS
    window_end = run.stopped_at
    steady = [(number, began) for number, began in run.created if window_start <= began < window_end]
    freshness, publishing_leg, unchanged, missing = [], [], 0, 0
    for number, began in steady:
        if number not in events:
            missing += 1
            continue
        written = [(ms, event.committed_ms) for event in events[number] if (ms := index.written_ms(event))]
        if written:
            freshness.append(max(ms for ms, _ in written) - began * 1000)
            publishing_leg.append(max(ms for ms, _ in written) - max(committed for _, committed in written))
        else:
            unchanged += 1
    posted_rate = len(steady) / (window_end - window_start)
    p50, p99 = p50_p99(freshness)
    documents = len(run.created)
    per_thousand = 1000 * totals.calls / max(documents, 1)
    ratio = documents / totals.calls if totals.calls else float("inf")
    say(
        f"  offered {run.offered}/s: {documents} documents posted ({run.rejected} rejected, {run.errors} errors), "
        f"steady posted {posted_rate:.0f}/s; Salesforce freshness p50 {p50:.0f} ms, p99 {p99:.0f} ms, max "
        f"{max(freshness, default=float('nan')):.0f} ms over {len(freshness)} documents ({unchanged} changed no "
        f"record); {totals.calls} Salesforce API calls; publisher caught up "
        f"{totals.caught_up_seconds:.1f}s after the drivers stopped; busy cores while they ran: "
        f"{totals.busy_cores}"
    )
    target = run.offered == 200
    keeps_up = posted_rate >= 0.9 * run.offered
    bench.row(
        f"SAP -> Salesforce, offered {run.offered}/s: freshness p50 / p99",
        f"{p50:,.0f} / {p99:,.0f} ms",
        f"p99 <= {FRESHNESS_TARGET_MS} ms, keeping up" if target else "",
        (f"{FRESHNESS_TARGET_MS / p99:.1f}x margin; " if target and p99 > 0 else "") + f"posted {posted_rate:,.0f}/s",
        (p99 <= FRESHNESS_TARGET_MS and keeps_up and missing == 0) if target else None,
    )
    leg50, leg99 = p50_p99(publishing_leg)
    bench.row(
        "  of which position committed -> record written",
        f"{leg50:,.0f} / {leg99:,.0f} ms",
        "",
        "p50 / p99: the publisher's share",
    )
    counted = run.offered == CALLS_TARGET_RATE
    bench.row(
        "  Salesforce API calls per 1,000 movements",
        f"{per_thousand:,.1f}",
        f"<= {1000 / CALLS_TARGET_RATIO:.0f} (>= {CALLS_TARGET_RATIO}x fewer)" if counted else "",
        f"{ratio:,.1f}x fewer calls than movements",
        ratio >= CALLS_TARGET_RATIO if counted else None,
    )
    if missing:
        bench.notes.append(
            f"Salesforce at {run.offered}/s: {missing} documents of the steady window never reached a position"
        )
        bench.broken = True
    if unchanged:
        bench.notes.append(
            f"Salesforce at {run.offered}/s: {unchanged} documents changed no Salesforce record (no figure for them)"
        )


def record_differences(org_url: str, gateway: GatewayProcess) -> list[str]:
    """The end-to-end test's comparison (`_differences`), with the org and the gateway on their own ports."""
    records = salesforce_records(org_url)
    values = gateway_values(gateway, records)
    salesforce = {
        r["Availability_Key__c"]: (int(r["Available_To_Sell__c"]), int(r["Available_To_Order__c"]), r["Status__c"])
        for r in records
    }
    return [
        f"{key}: salesforce {salesforce[key]} gateway {values.get(key)}"
        for key in sorted(salesforce)
        if salesforce[key] != values.get(key)
    ]


def check_records(bench, org_url: str, gateway: GatewayProcess, index: WriteIndex) -> None:
    """Every record equals the gateway's availability for its key; none went back in As_Of__c."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while (drift := record_differences(org_url, gateway)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for line in drift[:10]:
        say(f"  DRIFT: {line}")
    bench.row(
        "Product_Availability__c == gateway availability after the runs",
        f"{len(drift)} differences / {len(index.records)} records",
        "0",
        "ATS, ATO and status per key",
        not drift,
    )
    bench.row(
        "  records whose As_Of__c went backwards",
        f"{len(index.backwards)}",
        "0",
        "over every write in the history",
        not index.backwards,
    )
    bench.broken |= bool(drift) or bool(index.backwards)
    if index.history_full:
        bench.notes.append(
            f"Salesforce: {index.history_full} records hold a full history ({HISTORY_PER_RECORD} "
            "writes): older ones were dropped, so early documents' figures may come from later writes"
        )


def run(bench, workers: int = WORKERS) -> None:
    """Measure at each offered rate, then check every Salesforce record against the gateway."""
    directory = Path(tempfile.mkdtemp(prefix="inventory-bench-salesforce-"))
    say(
        f"\n== SAP movements to Salesforce records end to end, {describe(workers)}: "
        f"offered {' and '.join(f'{rate}/s' for rate in RATES)} for {WARMUP_SECONDS + STEADY_SECONDS}s each "
        f"(first {WARMUP_SECONDS}s warm-up), publisher window {Settings().publisher_window_ms} ms =="
    )
    stack = client = None
    try:
        stack = start_split(directory, workers=workers)
        sap, org = stack.sap, stack.salesforce.base_url
        settings = Settings(redis_url=stack.redis.url)
        client = redis_lib.Redis.from_url(stack.redis.url, decode_responses=True)
        changes = bootstrap(settings, client).changes
        used = wait_caught_up(org, client, changes.key, GROUP)  # the first full publish at start-up
        runs = []
        for rate, threads in RATES.items():
            cpu = cpu_times(stack)
            result = drive(sap.base_url, sap.user, sap.password, rate, threads, WARMUP_SECONDS + STEADY_SECONDS)
            busy = busy_cores(cpu, cpu_times(stack), result.seconds)
            flushed = flush_deliveries(stack, DRAIN_TIMEOUT_SECONDS)
            if not flushed["idle"] or flushed["undeliverable"]:
                bench.notes.append(f"Salesforce at {rate}/s: SAP pushes still pending or undeliverable: {flushed}")
                bench.broken = True
            after = wait_caught_up(org, client, changes.key, GROUP)
            # The quiet period is not publishing time: leave it out of the catch-up figure.
            runs.append((result, RunTotals(after - used, time.time() - result.stopped_at - QUIET_SECONDS, busy)))
            used = after
        events = movements(client, settings)
        index = WriteIndex(org, stack.gateway)
        for result, totals in runs:
            report(bench, result, totals, events, index)
        check_records(bench, org, stack.gateway, index)
        bench.notes.append(
            "Salesforce freshness: from the moment the driver began the OData POST to the simulator's "
            "write of the first computation after the document's commit that changed one of its keys; "
            "conservative (see benchmarks/salesforce.py)"
        )
    finally:
        if client is not None:
            client.close()
        if stack is not None:
            stack.stop()
        shutil.rmtree(directory, ignore_errors=True)
