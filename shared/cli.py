"""The `inventory-gateway` command: serve, worker, replay, demo-data, sap-sync, sap-sim, openapi.

Tier packages are imported inside the subcommands, so `shared` stays importable by every tier.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from pathlib import Path

from shared.config import Settings
from shared.logging import configure_logging
from shared.redis import create_redis, is_embedded

log = logging.getLogger("inventory_gateway")


def _inventory(settings: Settings, redis=None, prefix: str = "inv"):
    from process_apis.inventory.bootstrap import bootstrap

    return bootstrap(settings, redis if redis is not None else create_redis(settings), prefix=prefix)


def cmd_serve(args, settings: Settings) -> int:
    """All-in-one: every API in one gunicorn app, the expiry sweeper in each worker."""
    from gunicorn.app.base import BaseApplication

    from process_apis.inventory import sweeper
    from process_apis.inventory.app import create_app

    workers = args.workers or settings.workers
    if is_embedded(settings) and workers > 1:
        log.warning("the embedded store lives inside one process: serving with 1 worker instead of %d "
                    "(set REDIS_URL to run more)", workers)
        workers = 1
    redis = create_redis(settings)
    if args.demo or settings.demo:
        result = _demo(settings, redis)
        log.info("demo data loaded", extra={"applied": result["applied"], "duplicate": result["duplicate"]})

    class Gateway(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host or settings.host}:{args.port or settings.port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", args.threads or settings.threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", None)  # the app logs one JSON line per request itself

        def load(self):
            # With the embedded store the one worker inherits the data loaded above via fork.
            app = create_app(settings, redis=redis if is_embedded(settings) else None)
            sweeper.start_in_background(app.extensions["inventory"])
            return app

    Gateway().run()
    return 0


def cmd_worker(args, settings: Settings) -> int:
    """Background jobs for split deployments: the reservation expiry sweeper."""
    from process_apis.inventory import sweeper

    stop = threading.Event()
    log.info("worker started: reservation expiry sweeper", extra={"interval": settings.sweeper_interval_seconds})
    try:
        sweeper.run(_inventory(settings), stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def cmd_replay(args, settings: Settings) -> int:
    """Rebuild every position from the log into keys under another prefix, optionally verify."""
    from process_apis.inventory.adapters.ledger import replay

    redis = create_redis(settings)
    live = _inventory(settings, redis)
    rebuilt = _inventory(settings, redis, prefix=args.prefix)
    skus = live.ledger.all_skus()
    entries = replay(live.ledger, rebuilt.ledger, skus)
    report = {"skus": len(skus), "log_entries": entries, "prefix": args.prefix}
    if args.verify:
        holding = live.ledger.locations_holding(skus)
        differing = [
            f"{sku}@{location}"
            for sku, locations in holding.items()
            for location in locations
            if live.ledger.raw_position(sku, location) != rebuilt.ledger.raw_position(sku, location)
        ]
        if rebuilt.ledger.locations_holding(skus) != holding:
            differing.append("the rebuilt ledger holds other positions")
        report["differing_positions"] = differing
    print(json.dumps(report))
    return 1 if report.get("differing_positions") else 0


def _demo(settings: Settings, redis) -> dict:
    from process_apis.inventory import demo

    return demo.load(_inventory(settings, redis))


def cmd_demo_data(args, settings: Settings) -> int:
    print(json.dumps({k: v for k, v in _demo(settings, create_redis(settings)).items() if k != "not_applied"}))
    return 0


def cmd_openapi(args, settings: Settings) -> int:
    """Write each API's OpenAPI document into a folder (what `make openapi` commits)."""
    from process_apis.inventory.app import create_app

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    with app.app_context():
        document = app.extensions["api"].spec.to_dict()
    (out / "inventory-process.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out / 'inventory-process.json'}")
    return 0


def cmd_sap_sync(args, settings: Settings) -> int:
    """Snapshot SAP's stock into the gateway (one stock.counted per position); report on stdout."""
    from system_apis.sap.commands import run_stock_sync

    report = run_stock_sync(settings, plants=args.plant or None, materials=args.material or None,
                            report_drift=args.drift)
    print(json.dumps(report))
    return 0


def cmd_sap_sim(args, settings: Settings) -> int:
    """The SAP S/4HANA simulator on its own (OData services, business events, admin API)."""
    from simulators.sap.serve import serve

    return serve(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inventory-gateway", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway (gunicorn)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--threads", type=int)
    serve.add_argument("--demo", action="store_true", help="load the demo data set first")
    serve.set_defaults(run=cmd_serve)
    commands.add_parser("worker", help="run background jobs (expiry sweeper)").set_defaults(run=cmd_worker)
    replay = commands.add_parser("replay", help="rebuild positions from the log into fresh keys")
    replay.add_argument("--prefix", default="replay", help="key prefix of the rebuilt positions")
    replay.add_argument("--verify", action="store_true", help="compare with the live positions; exit 1 on a difference")
    replay.set_defaults(run=cmd_replay)
    commands.add_parser("demo-data", help="load the demo data set").set_defaults(run=cmd_demo_data)
    sap_sync = commands.add_parser("sap-sync", help="snapshot SAP's stock into the gateway (progress on stderr)")
    sap_sync.add_argument("--plant", action="append", help="only this plant (repeatable)")
    sap_sync.add_argument("--material", action="append", help="only this material (repeatable)")
    sap_sync.add_argument("--drift", action="store_true", help="report where the gateway differed from SAP")
    sap_sync.set_defaults(run=cmd_sap_sync)
    openapi = commands.add_parser("openapi", help="write the OpenAPI documents")
    openapi.add_argument("--out", default="openapi")
    openapi.set_defaults(run=cmd_openapi)
    from simulators.sap.serve import add_arguments as sap_sim_arguments

    sap_sim = commands.add_parser("sap-sim", help="run the SAP S/4HANA simulator (needs SAP_USER, SAP_PASSWORD)")
    sap_sim_arguments(sap_sim)
    sap_sim.set_defaults(run=cmd_sap_sim)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return args.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
