"""Web availability reads through the experience tier (issue 5): `GET /web/v1/availability` for one
SKU, and for 20 SKUs with a postal code (pickup stores), against the trivial Flask endpoint under
the same server configuration and load generator, in both deployment shapes:
- all-in-one: `inventory-gateway serve` (the web API calls the process API in-process);
- split: the process API and the web API each their own gunicorn app, over HTTP with a service key.
Targets on 2 cores: all-in-one ≥ 50 % and split ≥ 30 % of the trivial endpoint's throughput;
p99 ≤ 30 ms at 16 connections."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from gateway import demo_data
from gateway.settings import Settings
from process_apis.inventory.bootstrap import bootstrap
from shared.auth import CredentialStore
from tests.support.processes import start_gunicorn
from tests.support.sap_gateway import start_gateway

from . import reads
from .servers import balanced_connections, start_redis

CONNECTIONS = 16
WORKERS, THREADS = 2, 8
SECONDS = 4
ROUNDS = 4
TARGETS = {"all-in-one": 0.50, "split": 0.30}
P99_TARGET_MS = 30.0
ONE_SKU = "/web/v1/availability?" + urlencode({"sku": "MAT-1001"})
TWENTY_SKUS = "/web/v1/availability?" + urlencode(
    [("sku", f"MAT-{1001 + n}") for n in range(20)] + [("postal_code", "10117")]
)


def say(text: str) -> None:
    print(text, flush=True)


def run(bench, workers: int = WORKERS) -> None:
    directory = Path(tempfile.mkdtemp(prefix="inventory-bench-experience-"))
    say(
        f"\n== Web availability through the experience tier: 1 SKU, and 20 SKUs + postal code; wrk -c{CONNECTIONS}, "
        f"{ROUNDS} rounds x {SECONDS}s; gunicorn gthread {workers} workers x {THREADS} threads per app =="
    )
    if not reads.ensure_wrk():
        bench.notes.append("experience section skipped: wrk is not installed and could not be (apt-get install wrk)")
        return
    redis_server = start_redis(directory / "redis")
    servers: list = []
    try:
        client = redis_server.client()
        demo_data.load(bootstrap(Settings(redis_url=redis_server.url), client))
        credentials = CredentialStore(client, cache_seconds=0)
        service_key = credentials.create("bench-tiers", kind="service", scopes=["service"])[1]
        web_key = credentials.create("bench-shop", kind="channel", scopes=["web"])[1]
        client.close()
        # channel budget far above the bench's request rate: the limiter still counts every request
        env = {"REDIS_URL": redis_server.url, "LOG_LEVEL": "WARNING", "RATE_LIMIT_CHANNEL": "100000000/minute"}
        # wrk's connections spread over each server's workers, as a load balancer would (servers.py)
        spread = balanced_connections(CONNECTIONS, workers)
        trivial = start_gunicorn(
            "benchmarks.wsgi:trivial()",
            env=env,
            workers=workers,
            threads=THREADS,
            logfile=directory / "trivial.log",
            ready_path="/ok",
            worker_connections=spread,
        )
        servers.append(trivial)
        all_in_one = start_gateway(
            {
                **env,
                "GATEWAY_WORKERS": str(workers),
                "GATEWAY_THREADS": str(THREADS),
                "SAP_BASE_URL": "",
                "SALESFORCE_BASE_URL": "",
                "GUNICORN_CMD_ARGS": f"--worker-connections {spread}",
            },
            logfile=directory / "serve.log",
        )
        servers.append(all_in_one)
        process = start_gunicorn(
            "process_apis.inventory.app:create_app()",
            env=env,
            workers=workers,
            threads=THREADS,
            logfile=directory / "process.log",
        )
        servers.append(process)
        web = start_gunicorn(
            "experience_apis.web.app:create_app()",
            workers=workers,
            threads=THREADS,
            env={**env, "INVENTORY_PROCESS_URL": process.url, "SERVICE_API_KEY": service_key},
            logfile=directory / "web.log",
            worker_connections=spread,
        )
        servers.append(web)
        targets = {
            "trivial": trivial.url + "/ok",
            "all-in-one 1 SKU": all_in_one.base_url + ONE_SKU,
            "all-in-one 20 SKUs + postal code": all_in_one.base_url + TWENTY_SKUS,
            "split 1 SKU": web.url + ONE_SKU,
            "split 20 SKUs + postal code": web.url + TWENTY_SKUS,
        }
        results = _measure(targets, {"Authorization": f"Bearer {web_key}"})
        _report(bench, results)
    finally:
        for server in reversed(servers):
            server.stop()
        redis_server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _measure(targets: dict[str, str], headers: dict[str, str]) -> dict[str, list[reads.LoadResult]]:
    for url in targets.values():
        reads.wrk(url, seconds=1, connections=CONNECTIONS, headers=headers)  # warm-up: imports, pools, caches
    results: dict[str, list[reads.LoadResult]] = {name: [] for name in targets}
    for round_ in range(ROUNDS):
        for name in targets if round_ % 2 == 0 else reversed(list(targets)):
            result = reads.wrk(targets[name], seconds=SECONDS, connections=CONNECTIONS, headers=headers)
            results[name].append(result)
            say(
                f"  round {round_ + 1} {name:34s}: {result.rate:7.0f} req/s  p50 {result.latency_p50_ms} ms  "
                f"p99 {result.latency_p99_ms} ms  errors {result.errors}"
            )
    return results


def _report(bench, results: dict[str, list[reads.LoadResult]]) -> None:
    def rate(name: str) -> float:
        runs = results[name]
        return sum(r.requests for r in runs) / sum(r.seconds for r in runs)

    trivial = rate("trivial")
    bench.row("trivial Flask endpoint (same server, same wrk)", f"{trivial:,.0f} req/s")
    for name in results:
        if name == "trivial":
            continue
        shape = name.split(" ")[0]
        # wrk gives each round's p99; the p99 of all rounds' requests lies between the rounds' lowest and
        # highest, and is estimated by their request-weighted mean (the worst round is shown beside it).
        runs = results[name]
        p99 = sum((r.latency_p99_ms or float("inf")) * r.requests for r in runs) / sum(r.requests for r in runs)
        worst = max(r.latency_p99_ms or float("inf") for r in runs)
        errors = sum(r.errors for r in results[name])
        ratio = rate(name) / trivial
        bench.row(
            f"web availability, {name}",
            f"{rate(name):,.0f} req/s",
            f">= {TARGETS[shape]:.0%} of trivial",
            f"{ratio:.1%}",
            ratio >= TARGETS[shape],
        )
        bench.row(
            f"  p99 at {CONNECTIONS} connections",
            f"{p99:.1f} ms",
            f"<= {P99_TARGET_MS:.0f} ms",
            f"worst round {worst:.1f} ms",
            p99 <= P99_TARGET_MS,
        )
        if errors:
            bench.broken = True
            bench.notes.append(f"web availability {name}: {errors} non-2xx answers or socket errors")
