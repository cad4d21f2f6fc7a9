"""The `inventory-gateway` command: serve, worker, replay, positions, demo-data, sap-sync, sap-sim, sf-sim, openapi,
credentials.

Each command imports the tiers it runs inside itself: `serve` must switch metrics to multi-worker
mode (shared.metrics.share_across_workers) before any tier module creates its metrics on import.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from process_apis.inventory.domain.events import STOCK_FIELDS
from shared import metrics
from shared.auth import KINDS, SCOPES, Credential, CredentialError, CredentialStore
from shared.config import RATE_LIMIT_FIELDS
from shared.logging import configure_logging
from shared.rate_limits import parse_limit
from shared.redis import create_redis, is_embedded
from shared.serving import GunicornServer, gthread_config
from simulators.salesforce import serve as salesforce_simulator
from simulators.sap import serve as sap_simulator

from .settings import Settings

log = logging.getLogger("inventory_gateway")


def _inventory(settings: Settings, redis=None, prefix: str = "inv"):
    from process_apis.inventory.bootstrap import bootstrap

    return bootstrap(settings, redis if redis is not None else create_redis(settings), prefix=prefix)


def cmd_serve(args, settings: Settings) -> int:
    """All-in-one: every API (and, without SAP_BASE_URL / SALESFORCE_BASE_URL, the simulators) in one
    gunicorn app, the sweeper and the availability publisher in its worker(s)."""
    from . import banner, composition, demo

    demo_mode = args.demo or settings.demo
    generated, api_keys = None, None
    if demo_mode:
        settings, generated = demo.demo_settings(settings)
        api_keys = demo.demo_keys()
    workers = args.workers or settings.workers
    reasons = composition.single_process_reasons(settings)
    if reasons and workers > 1:
        log.warning("serving with 1 worker instead of %d: %s", workers, "; ".join(reasons))
        workers = 1
    host, port = args.host or settings.host, args.port or settings.port
    metrics_directory = metrics.share_across_workers() if workers > 1 else None  # before the tiers load
    # The demo is loaded once: where the state lives. With the embedded store or the in-process
    # simulator that is the one worker (after the fork); otherwise Redis and SAP are shared by every
    # worker and the master loads it before forking.
    demo_in_worker = demo_mode and bool(reasons)
    if demo_mode and not demo_in_worker:
        master = composition.create_gateway(settings)
        demo.load_demo(master, api_keys)
        master.close()

    def load():
        # Runs in each worker after the fork: the store, the simulators and their threads (sweeper,
        # publisher, event broker) belong to the process that serves them, never to the gunicorn master.
        app = composition.create_gateway(
            settings,
            simulator_options=composition.gateway_simulator_options(demo=demo_mode),
            salesforce_options=composition.salesforce_simulator_options(demo=demo_mode),
        )
        if demo_in_worker:
            demo.load_demo(app, api_keys)
        app.start_background()
        return app

    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    print(banner.banner(settings, f"http://{shown}:{port}", generated, api_keys), flush=True)
    hooks: dict[str, Callable[..., object]] = {"child_exit": lambda _, worker: metrics.mark_worker_dead(worker.pid)}
    if metrics_directory:
        hooks["on_exit"] = lambda _: shutil.rmtree(metrics_directory, ignore_errors=True)
    GunicornServer(
        load, gthread_config(host, port, workers=workers, threads=args.threads or settings.threads, **hooks)
    ).run()
    return 0


def cmd_worker(args, settings: Settings) -> int:
    """Background jobs for split deployments: the reservation expiry sweeper, with SAP_BASE_URL set the
    gap check of SAP's document numbers, and with SALESFORCE_SYSTEM_URL set the availability publisher.
    SIGTERM stops them cleanly."""
    import signal

    from process_apis.inventory import publisher, sweeper
    from system_apis.sap import gap_check
    from system_apis.sap.app import bootstrap as sap_bootstrap

    redis = create_redis(settings)
    inventory = _inventory(settings, redis)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    checking = None
    if settings.sap_base_url:
        system = sap_bootstrap(settings, redis=redis)
        checking = threading.Thread(target=gap_check.run, args=(system, stop), name="sap-gap-check")
        checking.start()
        log.info("worker started: SAP gap check", extra={"interval": settings.sap_gap_check_seconds})
    else:
        log.info("SAP gap check off: SAP_BASE_URL is not set")
    tier = publisher.tier_from_settings(settings)
    publishing = None
    if tier is None:
        log.warning(
            "availability publisher off: SALESFORCE_SYSTEM_URL is not set, so availability.changed "
            "outcomes wait in the change stream until a publisher runs"
        )
    else:
        publishing = threading.Thread(target=publisher.run, args=(inventory, tier, stop), name="availability-publisher")
        publishing.start()
        log.info(
            "worker started: availability publisher",
            extra={"salesforce_system_url": settings.salesforce_system_url, "window_ms": settings.publisher_window_ms},
        )
    log.info("worker started: reservation expiry sweeper", extra={"interval": settings.sweeper_interval_seconds})
    try:
        sweeper.run(inventory, stop)
    except KeyboardInterrupt:
        stop.set()
    for thread in (publishing, checking):
        if thread is not None:
            # Its lease is released on the way out, so a successor need not wait for it to lapse.
            thread.join(timeout=10)
    return 0


def cmd_replay(args, settings: Settings) -> int:
    """Rebuild every position from the log into keys under another prefix, optionally verify."""
    import dataclasses

    from process_apis.inventory.adapters.replay import Replay

    live = _inventory(settings)
    try:
        rebuild = Replay(live.ledger, prefix=args.prefix, ttl_seconds=settings.replay_ttl_seconds)
    except ValueError as error:
        print(f"replay: {error}", file=sys.stderr)
        return 2
    report = rebuild.run(verify=args.verify)
    print(json.dumps({k: v for k, v in dataclasses.asdict(report).items() if v is not None}))
    return 1 if report.differing_positions else 0


def cmd_positions(args, settings: Settings) -> int:
    """Operator repairs of one position: `reset-watermark` (audited in the log as done by "cli")."""
    from process_apis.inventory.domain.identifiers import is_identifier
    from process_apis.inventory.service.positions import reset_watermarks
    from shared.errors import Problem

    if is_embedded(settings):
        print("positions need REDIS_URL: the embedded store lives inside one serving process", file=sys.stderr)
        return 2
    for name in ("sku", "location"):
        if not is_identifier(getattr(args, name)):
            print(f"error: --{name} {getattr(args, name)!r} is not an identifier", file=sys.stderr)
            return 2
    try:
        result = reset_watermarks(
            _inventory(settings),
            sku=args.sku,
            location=args.location,
            fields=args.field or STOCK_FIELDS,
            reason=args.reason,
            actor="cli",
        )
    except Problem as problem:
        print(f"error: {problem.detail}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def _add_positions_parser(commands) -> None:
    positions = commands.add_parser("positions", help="repair one position (needs REDIS_URL)")
    actions = positions.add_subparsers(dest="action", required=True)
    reset = actions.add_parser(
        "reset-watermark",
        help="clear the watermarks of a position's stock fields, so the next count applies (e.g. after a count "
        "dated in the future froze it); the quantities stay until that count",
    )
    reset.add_argument("--sku", required=True)
    reset.add_argument("--location", required=True)
    reset.add_argument("--field", action="append", choices=STOCK_FIELDS, help="repeatable; default every stock field")
    reset.add_argument("--reason", required=True, help="why, kept in the audit log line")
    positions.set_defaults(run=cmd_positions)


def _demo(settings: Settings, redis) -> dict:
    from . import demo_data

    return demo_data.load(_inventory(settings, redis))


def cmd_demo_data(args, settings: Settings) -> int:
    print(json.dumps({k: v for k, v in _demo(settings, create_redis(settings)).items() if k != "not_applied"}))
    return 0


#: file name in openapi/ -> the module whose create_app() builds the API it documents
OPENAPI_DOCUMENTS = {
    "inventory-process.json": "process_apis.inventory.app",
    "sap-system.json": "system_apis.sap.app",
    "salesforce-system.json": "system_apis.salesforce.app",
    "web-experience.json": "experience_apis.web.app",
    "store-experience.json": "experience_apis.store.app",
    "call-centre-experience.json": "experience_apis.call_centre.app",
}


def cmd_openapi(args, settings: Settings) -> int:
    """Write each API's OpenAPI document into a folder (what `make openapi` commits)."""
    import dataclasses
    import importlib

    # The documents come from the code alone: point the system APIs at placeholder systems so that
    # nothing (the simulators, SAP or Salesforce credentials) needs to be configured to write them.
    settings = dataclasses.replace(
        settings,
        sap_base_url="http://sap.invalid/sap/opu/odata/sap",
        salesforce_base_url="https://salesforce.invalid",
        process_api_url="http://inventory-process.invalid",
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    redis = create_redis(dataclasses.replace(settings, redis_url=None))
    for name, module in OPENAPI_DOCUMENTS.items():
        app = importlib.import_module(module).create_app(settings, redis=redis)
        with app.app_context():
            document = app.extensions["api"].spec.to_dict()
        (out / name).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        print(f"wrote {out / name}")
    return 0


def cmd_sap_sync(args, settings: Settings) -> int:
    """Snapshot SAP's stock into the gateway (one stock.counted per position); report on stdout."""
    from system_apis.sap.commands import run_stock_sync

    report = run_stock_sync(
        settings, plants=args.plant or None, materials=args.material or None, report_drift=args.drift
    )
    print(json.dumps(report))
    return 0


def cmd_sap_sim(args, settings: Settings) -> int:
    """The SAP S/4HANA simulator on its own (OData services, business events, admin API)."""
    return sap_simulator.serve(args, settings)


def cmd_sf_sim(args, settings: Settings) -> int:
    """The Salesforce org simulator on its own (OAuth, REST, Platform Events, admin API)."""
    return salesforce_simulator.serve(args, settings)


def cmd_credentials(args, settings: Settings) -> int:
    """Create, list or revoke client credentials (API keys) in the configured Redis."""
    if is_embedded(settings):
        print(
            "credentials need REDIS_URL: the embedded store lives inside one serving process "
            "(run `serve --demo` for demo credentials)",
            file=sys.stderr,
        )
        return 2
    store = CredentialStore(create_redis(settings), cache_seconds=0)
    if args.action == "create":
        try:
            credential, api_key = store.create(
                args.client_id,
                kind=args.kind,
                scopes=args.scope,
                name=args.name,
                store_id=args.store,
                rotate=args.rotate,
                rate_limit=args.rate_limit,
            )
        except CredentialError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(json.dumps({**_shown(credential, settings), "api_key": api_key}))
        print("store this API key now: it is kept only as a hash and cannot be shown again", file=sys.stderr)
        return 0
    if args.action == "list":
        for credential in store.list():
            print(json.dumps(_shown(credential, settings)))
        return 0
    if not store.revoke(args.client_id):
        print(f"error: no credential for client {args.client_id!r}", file=sys.stderr)
        return 1
    print(json.dumps({"client_id": args.client_id, "revoked": True}))
    return 0


def _shown(credential: Credential, settings: Settings) -> dict:
    """A credential as `credentials` prints it: with the rate limit it gets (its own, or its kind's RATE_LIMIT_*
    of these settings) and where that comes from."""
    shown = credential.to_dict()
    if credential.rate_limit is not None:
        return {**shown, "rate_limit_from": "credential"}
    setting = RATE_LIMIT_FIELDS[credential.kind]
    limit = parse_limit(getattr(settings, setting))
    return {**shown, "rate_limit": str(limit) if limit else "unlimited", "rate_limit_from": Settings.env(setting)}


def _add_credentials_parser(commands) -> None:
    credentials = commands.add_parser("credentials", help="create, list or revoke API keys (needs REDIS_URL)")
    actions = credentials.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a credential and print its API key, once")
    create.add_argument("--client-id", required=True)
    create.add_argument("--kind", required=True, choices=KINDS)
    create.add_argument("--scope", action="append", required=True, choices=list(SCOPES), help="repeatable")
    create.add_argument("--store", help="the one store a `store`-scoped credential acts for")
    create.add_argument("--name", help="who the client is, for people reading `credentials list`")
    create.add_argument("--rotate", action="store_true", help="replace an existing credential and its key")
    create.add_argument(
        "--rate-limit",
        help='its own rate limit, e.g. "2000/second" or "600/minute" (default: its kind\'s RATE_LIMIT_*)',
    )
    actions.add_parser("list", help="every credential, one JSON line each (no secrets)")
    revoke = actions.add_parser("revoke", help="disable a credential")
    revoke.add_argument("--client-id", required=True)
    credentials.set_defaults(run=cmd_credentials)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inventory-gateway", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway, every API in one app (gunicorn)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--threads", type=int)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="demo mode: both simulators with their demo data, the demo network and rules",
    )
    serve.set_defaults(run=cmd_serve)
    commands.add_parser("worker", help="run background jobs (expiry sweeper, availability publisher)").set_defaults(
        run=cmd_worker
    )
    replay = commands.add_parser("replay", help="rebuild positions from the log into fresh keys")
    replay.add_argument(
        "--prefix",
        default="replay",
        help="key prefix of the rebuilt positions (its keys from a previous run are deleted first)",
    )
    replay.add_argument("--verify", action="store_true", help="compare with the live positions; exit 1 on a difference")
    replay.set_defaults(run=cmd_replay)
    _add_positions_parser(commands)
    commands.add_parser("demo-data", help="load the demo data set").set_defaults(run=cmd_demo_data)
    sap_sync = commands.add_parser("sap-sync", help="snapshot SAP's stock into the gateway (progress on stderr)")
    sap_sync.add_argument("--plant", action="append", help="only this plant (repeatable)")
    sap_sync.add_argument("--material", action="append", help="only this material (repeatable)")
    sap_sync.add_argument("--drift", action="store_true", help="report where the gateway differed from SAP")
    sap_sync.set_defaults(run=cmd_sap_sync)
    openapi = commands.add_parser("openapi", help="write the OpenAPI documents")
    openapi.add_argument("--out", default="openapi")
    openapi.set_defaults(run=cmd_openapi)
    _add_credentials_parser(commands)
    sap_sim = commands.add_parser("sap-sim", help="run the SAP S/4HANA simulator (needs SAP_USER, SAP_PASSWORD)")
    sap_simulator.add_arguments(sap_sim)
    sap_sim.set_defaults(run=cmd_sap_sim)
    sf_sim = commands.add_parser(
        "sf-sim", help="run the Salesforce org simulator (needs SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET)"
    )
    salesforce_simulator.add_arguments(sf_sim)
    sf_sim.set_defaults(run=cmd_sf_sim)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return args.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
