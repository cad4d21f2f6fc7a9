"""Serve the SAP simulator on its own (`inventory-gateway sap-sim` or `python -m simulators.sap.serve`).

One gunicorn worker with threads: the simulated system keeps its state in that process.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .settings import SapSimulatorSettings

log = logging.getLogger("sap_simulator")
DEFAULT_PORT = 8081


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--demo", action="store_true", help="seed the demo landscape (plants, 20 materials, stock)")
    parser.add_argument("--page-size", type=int, default=1000, help="server-side page size of collection reads")
    parser.add_argument("--allow-negative-stock", action="store_true")
    parser.add_argument(
        "--push-workers",
        type=int,
        default=4,
        help="business-event deliveries in flight at once (the broker's delivery threads)",
    )


def serve(args: argparse.Namespace, settings: SapSimulatorSettings) -> int:
    from shared.serving import GunicornServer, gthread_config
    from simulators.sap.app import create_app
    from simulators.sap.events import DeliveryPolicy
    from simulators.sap.system import SimulatorOptions

    options = SimulatorOptions(
        page_size=args.page_size,
        allow_negative_stock=args.allow_negative_stock,
        demo=args.demo,
        delivery=DeliveryPolicy(workers=args.push_workers),
    )
    create_app(settings, options=options).extensions["sap_system"].close()  # fail fast on bad settings

    log.info("SAP simulator on http://%s:%d/sap/opu/odata/sap/ (admin: /sap-sim/admin/)", args.host, args.port)
    GunicornServer(
        lambda: create_app(settings, options=options), gthread_config(args.host, args.port, threads=args.threads)
    ).run()
    return 0


def main(argv: list[str] | None = None) -> int:
    from shared.logging import configure_logging

    parser = argparse.ArgumentParser(prog="python -m simulators.sap.serve", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    settings = SapSimulatorSettings.from_env()
    configure_logging(settings.log_level)
    return serve(args, settings)


if __name__ == "__main__":
    sys.exit(main())
