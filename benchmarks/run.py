"""`make bench`: throughput, ratios and memory of the inventory process API, measured in one run.

Starts its own redis-server (free port, no persistence) and serves the app with gunicorn
(gthread) against it; every ratio compares two figures measured in this same run, interleaved
in rounds so that a noisy host moves both sides alike. The load generators run on the same
machine and take CPU from the server; every figure is therefore a floor, not a ceiling.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import redis as redis_lib

from gateway.settings import Settings
from process_apis.inventory.adapters.keys import Keys
from process_apis.inventory.bootstrap import bootstrap
from tests.support.auth import SERVICE_CLIENT_ID, stored_service_key

from . import data, ingest, memory, reads, reservations
from .load import Connection, use_api_key
from .servers import Gunicorn, ServerConfig, start_gunicorn, start_redis

CONFIGS = (ServerConfig(2, 4), ServerConfig(2, 8), ServerConfig(3, 4), ServerConfig(4, 2), ServerConfig(6, 2))
INGEST_CLIENTS = 4
INGEST_ROUNDS = 6
INGEST_BATCHES_PER_ROUND = 24
READ_CONNECTIONS = 32
READ_ROUNDS = 8  # short interleaved rounds: the host's slow phases last seconds and hit every target alike
READ_SECONDS = 2
MULTI_ROUNDS = 2
MULTI_SECONDS = 3
SETTLE_SECONDS = 3  # a 1000-position read outlives its load run; the next measurement waits for it
TRIAL_SECONDS = 3
TRIAL_RESERVATIONS_PER_CLIENT = 12
RESERVATION_CLIENTS = 32
RESERVATIONS_PER_CLIENT = 100
SCARCE_RESERVATIONS_PER_CLIENT = 25
RULES = {
    "safety_stock": [{"units": reservations.SAFETY_UNITS}],
    "allocations": [],
    "low_stock": [{"threshold": 5}],
    "categories": {},
    "channels_selling_incoming": ["web"],
}

INVENTORY_APP = "benchmarks.wsgi:inventory()"
TRIVIAL_APP = "benchmarks.wsgi:trivial()"


def say(message: str = "") -> None:
    print(message, flush=True)


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def post_events(connection: Connection, events: list[dict]) -> int:
    applied = 0
    for i in range(0, len(events), data.BATCH):
        status, body = connection.json("POST", ingest.EVENTS_PATH, {"events": events[i : i + data.BATCH]})
        if status != 200:
            raise RuntimeError(f"POST events answered {status}: {body}")
        applied += body["applied"]
    return applied


def seed(base_url: str, start: datetime) -> None:
    connection = Connection(base_url)
    for location in data.LOCATIONS:
        status, body = connection.json("PUT", f"/inventory/v1/locations/{location}", data.location_body(location))
        assert status in (200, 201), body
    status, body = connection.json(
        "PUT",
        f"/inventory/v1/location-groups/{reservations.GROUP}",
        {
            "members": ["DC01", "S001", "S002", "S003"],
            "channel": "web",
            "sourcing_strategy": "priority",
            "fulfilment_method": "ship",
        },
    )
    assert status in (200, 201), body
    status, body = connection.json("PUT", "/inventory/v1/rules", RULES, {"If-Match": "*"})
    assert status == 200, body
    applied = post_events(connection, data.initial_counts(start))
    assert applied == len(data.SKUS) * len(data.LOCATIONS), applied
    trial_stock, _ = reservations.stock_events(data.LOCATIONS, stamp(start), scarce=0, skus=reservations.TRIAL_SKUS)
    post_events(connection, [{**event, "quantity": 100_000} for event in trial_stock])
    connection.close()


def availability_path(skus: list[str], locations: list[str]) -> str:
    return "/inventory/v1/availability?" + urlencode(
        [("sku", sku) for sku in skus] + [("location", loc) for loc in locations] + [("channel", "web")]
    )


SINGLE = availability_path([data.SKUS[0]], ["S001"])
MULTI = availability_path(data.SKUS[:100], data.LOCATIONS)


def check_reads(base_url: str) -> None:
    connection = Connection(base_url)
    status, body = connection.json("GET", SINGLE)
    assert status == 200 and len(body["positions"]) == 1, (status, body)
    status, body = connection.json("GET", MULTI)
    assert status == 200 and len(body["positions"]) == 1000, status
    connection.close()


class Bench:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.notes: list[str] = []
        self.verdicts: list[bool] = []
        self.broken = False  # a correctness check failed (not just a speed target)
        self.setup = "each section's setup in its header"  # the process API section names its server and load

    def row(self, figure: str, value: str, target: str = "", ratio: str = "", ok: bool | None = None) -> None:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        if ok is not None:
            self.verdicts.append(ok)
        self.rows.append((figure, value, target, ratio, verdict))

    def table(self) -> str:
        header = ("figure", "measured", "target", "ratio / margin", "result")
        widths = [max(len(r[i]) for r in (header, *self.rows)) for i in range(5)]
        line = "+".join("-" * (w + 2) for w in widths)
        fmt = lambda r: "|".join(f" {c:<{w}} " for c, w in zip(r, widths))  # noqa: E731
        return "\n".join([fmt(header), line, *(fmt(r) for r in self.rows)])


def serve(factory: str, config: ServerConfig, redis_url: str, directory: Path, ready: str) -> Gunicorn:
    clients = max(READ_CONNECTIONS, RESERVATION_CLIENTS, INGEST_CLIENTS)
    return start_gunicorn(factory, config, redis_url=redis_url, directory=directory, ready_path=ready, clients=clients)


def choose_config(bench: Bench, generator: reads.Generator, redis_url: str, directory: Path) -> ServerConfig:
    say(
        f"\n== Server configuration trial: availability 1 SKU x 1 location ({TRIAL_SECONDS}s, {generator.describe()}) "
        f"and reservations ({RESERVATION_CLIENTS} clients x {TRIAL_RESERVATIONS_PER_CLIENT}, trial SKUs) =="
    )
    results = []
    for config in CONFIGS:
        server = serve(INVENTORY_APP, config, redis_url, directory, "/readyz")
        try:
            generator.run(server.url + SINGLE, 1)  # warm-up: imports, pools, caches
            read = generator.run(server.url + SINGLE, TRIAL_SECONDS)
            held = reservations.run(
                server.url,
                data.LOCATIONS,
                clients=RESERVATION_CLIENTS,
                per_client=TRIAL_RESERVATIONS_PER_CLIENT,
                skus=reservations.TRIAL_SKUS,
            )
        finally:
            server.stop()
        results.append((read.rate, held.rate, config))
        say(f"  {str(config):40s} reads {read.rate:7.0f} req/s   reservations {held.rate:6.0f} req/s")
    best_read = max(r for r, _, _ in results)
    best_held = max(h for _, h, _ in results)
    # Both matter: pick the best geometric mean of the two, each relative to its best.
    _, _, best = max(results, key=lambda item: (item[0] / best_read) * (item[1] / best_held))
    say(f"  -> using {best} (best geometric mean of the two, each relative to its best)")
    return best


def calibrate() -> str:
    """Pure-Python speed of this host right now (it varies: shared hosts, turbo, neighbours)."""

    def spin() -> float:
        began = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        return 2.0 / (time.perf_counter() - began)

    return f"{max(spin() for _ in range(3)):.1f} M loop iterations/s on one core"


def run_ingest(bench: Bench, server: Gunicorn, redis_url: str, settings: Settings, start: datetime) -> None:
    say(
        f"\n== Event ingest: {INGEST_ROUNDS} rounds x {INGEST_BATCHES_PER_ROUND} batches of {data.BATCH} events, "
        f"{INGEST_CLIENTS} concurrent clients, HTTP and raw interleaved =="
    )
    factory = data.EventFactory(21, "ingest", start + timedelta(minutes=5))
    warm_http, warm_raw = factory.bodies(INGEST_CLIENTS * 2), factory.bodies(INGEST_CLIENTS * 2)
    ingest.http_ingest(server.url, warm_http, INGEST_CLIENTS)
    ingest.raw_ingest(redis_url, warm_raw, INGEST_CLIENTS, settings)
    totals = {"http": [0, 0.0, 0], "raw": [0, 0.0, 0]}
    for round_ in range(INGEST_ROUNDS):
        order = ("http", "raw") if round_ % 2 == 0 else ("raw", "http")
        for mode in order:
            bodies = factory.bodies(INGEST_BATCHES_PER_ROUND)
            if mode == "http":
                result = ingest.http_ingest(server.url, bodies, INGEST_CLIENTS)
            else:
                result = ingest.raw_ingest(redis_url, bodies, INGEST_CLIENTS, settings)
            totals[mode][0] += result.events
            totals[mode][1] += result.seconds
            totals[mode][2] += result.applied
        say(
            f"  round {round_ + 1}: http so far {totals['http'][0] / totals['http'][1]:8.0f} ev/s, "
            f"raw so far {totals['raw'][0] / totals['raw'][1]:8.0f} ev/s"
        )
    http_rate = totals["http"][0] / totals["http"][1]
    raw_rate = totals["raw"][0] / totals["raw"][1]
    for mode, (events, _, applied) in totals.items():
        say(
            f"  {mode}: {events} events, {applied} applied ({applied / events:.1%}; the rest stale: "
            "deltas older than a count that concurrent batches delivered first)"
        )
    bench.row(
        "ingest over HTTP (1000-event batches)",
        f"{http_rate:,.0f} events/s",
        ">= 15,000 events/s",
        f"{http_rate / 15000:.2f}x",
        http_rate >= 15000,
    )
    bench.row("ingest raw (same Lua, redis-py pipeline)", f"{raw_rate:,.0f} events/s")
    bench.row(
        "ingest HTTP / raw",
        f"{http_rate / raw_rate:.1%}",
        ">= 50 %",
        f"{http_rate / raw_rate / 0.5:.2f}x",
        http_rate / raw_rate >= 0.5,
    )


def run_reads(bench: Bench, generator: reads.Generator, server: Gunicorn, trivial: Gunicorn) -> None:
    say(
        f"\n== Availability reads vs trivial Flask endpoint: {READ_ROUNDS} rounds x {READ_SECONDS}s each, "
        f"then the 1000-position read {MULTI_ROUNDS} x {MULTI_SECONDS}s; {generator.describe()} =="
    )
    check_reads(server.url)
    targets = {"trivial": trivial.url + "/ok", "in-stack": server.url + "/bench/ok", "single": server.url + SINGLE}
    for url in [*targets.values(), server.url + MULTI]:
        generator.run(url, 1)
    time.sleep(SETTLE_SECONDS)
    totals = {name: [0, 0.0, 0] for name in [*targets, "multi"]}

    def measure(name: str, url: str, seconds: float, round_: int) -> None:
        result = generator.run(url, seconds)
        totals[name][0] += result.requests
        totals[name][1] += result.seconds
        totals[name][2] += result.errors
        say(
            f"  round {round_ + 1} {name:8s}: {result.rate:8.0f} req/s  p50 {result.latency_p50_ms} ms  "
            f"p99 {result.latency_p99_ms} ms  errors {result.errors}"
        )

    for round_ in range(READ_ROUNDS):
        for name in list(targets) if round_ % 2 == 0 else list(reversed(targets)):
            measure(name, targets[name], READ_SECONDS, round_)
    for round_ in range(MULTI_ROUNDS):
        measure("multi", server.url + MULTI, MULTI_SECONDS, round_)
    time.sleep(SETTLE_SECONDS)
    rate = {name: total[0] / total[1] for name, total in totals.items()}
    errors = sum(total[2] for total in totals.values())
    ratio = rate["single"] / rate["in-stack"]
    bench.row('trivial Flask {"ok": true}, bare app (same gunicorn)', f"{rate['trivial']:,.0f} req/s")
    bench.row(
        'trivial Flask {"ok": true}, in the API\'s app stack',
        f"{rate['in-stack']:,.0f} req/s",
        "",
        f"{rate['in-stack'] / rate['trivial']:.1%} of bare",
    )
    bench.row(
        "availability 1 SKU x 1 location",
        f"{rate['single']:,.0f} req/s",
        ">= 70 % of trivial",
        f"{ratio:.1%} of in-stack, {rate['single'] / rate['trivial']:.1%} of bare",
        ratio >= 0.7 and errors == 0,
    )
    bench.row(
        "availability 100 SKUs x 10 locations",
        f"{rate['multi']:,.1f} req/s",
        "",
        f"{rate['multi'] * 1000:,.0f} positions/s",
    )
    if errors:
        bench.broken = True
        bench.notes.append(f"{errors} read requests failed (non-2xx or socket errors)")


def run_reservations(bench: Bench, server: Gunicorn, inventory, start: datetime) -> reservations.ReservationRun:
    say(
        f"\n== Reservations: {RESERVATION_CLIENTS} concurrent clients on {len(reservations.HOT_SKUS)} hot SKUs "
        "(1-3 lines, 20 % via a location group), then the same on scarce stock =="
    )
    connection = Connection(server.url)
    plenty, _ = reservations.stock_events(data.LOCATIONS, stamp(start), scarce=0)
    scarce, _ = reservations.stock_events(
        data.LOCATIONS, stamp(start), scarce=len(reservations.LOW_SKUS), skus=reservations.LOW_SKUS
    )
    post_events(connection, plenty + scarce)
    connection.close()
    run = reservations.run(server.url, data.LOCATIONS, clients=RESERVATION_CLIENTS, per_client=RESERVATIONS_PER_CLIENT)
    say(
        f"  plentiful stock: {run.requests} requests in {run.seconds:.2f}s: {run.created} created (201), "
        f"{run.refused} refused (409), other {run.other or 'none'}"
    )
    mixed_skus = reservations.HOT_SKUS[:6] + reservations.LOW_SKUS
    short = reservations.run(
        server.url,
        data.LOCATIONS,
        clients=RESERVATION_CLIENTS,
        per_client=SCARCE_RESERVATIONS_PER_CLIENT,
        skus=mixed_skus,
        seed=12,
    )
    say(
        f"  scarce stock ({len(reservations.LOW_SKUS)} SKUs with 8-20 units a location, mixed with 6 hot ones): "
        f"{short.requests} requests in {short.seconds:.2f}s: {short.created} created, {short.refused} refused (409), "
        f"other {short.other or 'none'}"
    )
    allocated = dict(run.allocated)
    for position, quantity in short.allocated.items():
        allocated[position] = allocated.get(position, 0) + quantity
    audited = reservations.HOT_SKUS + reservations.LOW_SKUS
    problems = reservations.audit(inventory.ledger, audited, data.LOCATIONS, allocated)
    for problem in problems[:10]:
        say(f"  AUDIT: {problem}")
    bench.row(
        f"reservations at {RESERVATION_CLIENTS} clients, hot SKUs",
        f"{run.rate:,.0f} req/s",
        ">= 600 req/s",
        f"{run.rate / 600:.2f}x",
        run.rate >= 600 and not run.other and not run.refused,
    )
    bench.row(
        f"  same, scarce stock ({short.refused} of {short.requests} refused)",
        f"{short.rate:,.0f} req/s",
        "",
        "refusals wait out pending holds",
    )
    bench.row(
        "oversell audit (reserved <= on_hand - safety; sum 201 == reserved)",
        f"{len(problems)} problems / {len(audited) * len(data.LOCATIONS)} positions",
        "0",
        "",
        not problems,
    )
    bench.broken |= bool(problems) or bool(run.other) or bool(short.other)
    return run


def run_memory(
    bench: Bench, server: Gunicorn, client, keys: Keys, start: datetime, run: reservations.ReservationRun
) -> None:
    say(
        f"\n== Memory: {len(memory.MEMORY_SKUS)} SKUs x {len(data.LOCATIONS)} locations, a count then "
        f"{memory.DELTAS_PER_POSITION} movements each (one trading day), via HTTP =="
    )
    events = memory.memory_day(start + timedelta(minutes=1))
    connection = Connection(server.url)
    post_events(connection, events)
    connection.close()
    pos = memory.per_position(client, keys, events)
    say(
        f"  per position: hash {pos.position_hash:.0f} B, journal {pos.journal:.0f} B "
        f"({pos.journal_entries:.1f} entries), per-SKU sets share {pos.sets:.0f} B; dedup keys {pos.dedup:.0f} B, "
        f"log {pos.log:.0f} B ({pos.log_entries:.1f} entries)"
    )
    bench.row(
        "bytes per position: state (hash + journal + set share)",
        f"{pos.state:,.0f} B",
        "<= 1,024 B",
        f"{pos.state / 1024:.0%} of 1 KiB",
        pos.state <= 1024,
    )
    bench.row("  + dedup keys (event ids, 7-day TTL)", f"{pos.state + pos.dedup:,.0f} B")
    bench.row(
        "  + log entries (stream)",
        f"{pos.state + pos.dedup + pos.log:,.0f} B",
        "",
        f"log {pos.log / max(pos.log_entries, 1):.0f} B/entry",
    )
    res = memory.per_reservation(client, keys, run.samples, SERVICE_CLIENT_ID)
    say(
        f"  per reservation ({res.sampled} sampled): header {res.header:.0f} B, holds {res.holds:.0f} B, "
        f"expiry + ref index {res.indexes:.0f} B; stored Idempotency-Key response {res.idempotency:.0f} B"
    )
    bench.row("bytes per reservation (header + holds + indexes)", f"{res.total:,.0f} B")
    bench.row("  + stored Idempotency-Key response (1-day TTL)", f"{res.total + res.idempotency:,.0f} B")


def run_inventory(bench: Bench, workers: int | None = None) -> None:
    """The process API section: ingest, reads, reservations and memory on its own redis-server,
    under the gunicorn configuration the trial picks (or `workers` x 4 threads when given)."""
    directory = Path(tempfile.mkdtemp(prefix="inventory-bench-"))
    generator = reads.Generator(READ_CONNECTIONS)
    if not generator.wrk:
        say("wrk not found (and not installable here): using a Python load generator instead; apt-get install wrk")
    redis_server = start_redis(directory / "redis")
    client = redis_lib.Redis.from_url(redis_server.url, decode_responses=True)
    use_api_key(stored_service_key(client))
    settings = Settings(redis_url=redis_server.url)
    inventory = bootstrap(settings, client)
    start = datetime.now(UTC) - timedelta(hours=6)
    servers: list[Gunicorn] = []
    try:
        first = serve(INVENTORY_APP, CONFIGS[0], redis_server.url, directory, "/readyz")
        try:
            seed(first.url, start)
        finally:
            first.stop()
        config = ServerConfig(workers, 4) if workers else choose_config(bench, generator, redis_server.url, directory)
        bench.setup = (
            f"{config}; load: {generator.describe()}; ingest: {INGEST_CLIENTS} clients, one connection per batch"
        )
        server = serve(INVENTORY_APP, config, redis_server.url, directory, "/readyz")
        servers.append(server)
        run_ingest(bench, server, redis_server.url, settings, start)
        trivial = serve(TRIVIAL_APP, config, redis_server.url, directory, "/ok")
        servers.append(trivial)
        run_reads(bench, generator, server, trivial)
        trivial.stop()
        run = run_reservations(bench, server, inventory, start)
        run_memory(bench, server, client, inventory.reservations.keys, start, run)
    finally:
        for server in servers:
            server.stop()
        client.close()
        redis_server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def main() -> int:
    began = time.perf_counter()
    bench = Bench()
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2]
    say(
        f"Inventory Gateway bench: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"redis-server {redis_version}"
    )
    say("The load generators and Redis share these CPUs with the server: figures are floors, not ceilings.")
    say(f"Host speed at start: {calibrate()}")
    run_inventory(bench)
    # -- SAP goods movements end to end (benchmarks/sap.py): its own split stack (benchmarks/split.py) --
    from . import sap

    sap.run(bench)
    # -- SAP movements to Salesforce records (benchmarks/salesforce.py): its own split stack --
    from . import salesforce

    salesforce.run(bench)
    # -- web availability through the experience tier, all-in-one and split (benchmarks/experience.py) --
    from . import experience

    experience.run(bench)
    say(f"\n== Results ({bench.setup}) ==")
    say(bench.table())
    for note in bench.notes:
        say(f"note: {note}")
    say(f"Host speed at end: {calibrate()} (a large change from the start means a noisy host: rerun)")
    say(f"{sum(bench.verdicts)} of {len(bench.verdicts)} targets met; bench took {time.perf_counter() - began:.0f}s")
    # Speed targets are reported, not enforced (they move with the host); broken correctness fails.
    return 1 if bench.broken else 0


def run_alone(title: str, section, workers: int) -> int:
    """`--only <section>`: one section's `run(bench, workers)` with its own results table."""
    began = time.perf_counter()
    bench = Bench()
    say(f"Host speed at start: {calibrate()}")
    section(bench, workers)
    say(f"\n== Results ({title} section) ==")
    say(bench.table())
    for note in bench.notes:
        say(f"note: {note}")
    say(f"{sum(bench.verdicts)} of {len(bench.verdicts)} targets met; took {time.perf_counter() - began:.0f}s")
    return 1 if bench.broken else 0


if __name__ == "__main__":
    # --only inventory|sap|salesforce|experience [--workers N]: one section alone, its server with N gunicorn
    # workers (the inventory section otherwise picks its configuration by trial)
    if sys.argv[1:2] == ["--only"] and sys.argv[2:3] in (["inventory"], ["sap"], ["salesforce"], ["experience"]):
        from . import experience, salesforce, sap, split

        sections = {
            "inventory": ("process API", run_inventory, None),
            "sap": ("SAP", sap.run, split.WORKERS),
            "salesforce": ("Salesforce", salesforce.run, split.WORKERS),
            "experience": ("experience", experience.run, experience.WORKERS),
        }
        title, section, workers = sections[sys.argv[2]]
        workers = int(sys.argv[4]) if sys.argv[3:4] == ["--workers"] and len(sys.argv) == 5 else workers
        sys.exit(run_alone(title, section, workers))
    sys.exit(main())
