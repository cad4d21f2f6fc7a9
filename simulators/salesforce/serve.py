"""Serve the Salesforce simulator on its own (`inventory-gateway sf-sim` or `python -m simulators.salesforce`).

One gunicorn worker with threads: the org keeps its state in that process. With --cert and --key
it speaks HTTPS, as Salesforce does (simple-salesforce only speaks HTTPS).
"""

from __future__ import annotations

import argparse
import logging

from shared.serving import GunicornServer, gthread_config

from .settings import SalesforceSimulatorSettings

log = logging.getLogger("salesforce_simulator")
DEFAULT_PORT = 8083


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--demo", action="store_true", help="seed Product2 for the demo SKUs MAT-1001..MAT-1020")
    parser.add_argument("--page-size", type=int, default=2000, help="records per SOQL page")
    parser.add_argument("--cert", help="PEM certificate (chain) to serve HTTPS with; needs --key")
    parser.add_argument("--key", help="PEM private key of --cert")


def serve(args: argparse.Namespace, settings: SalesforceSimulatorSettings) -> int:
    from simulators.salesforce.app import create_app
    from simulators.salesforce.org import OrgOptions

    if bool(args.cert) != bool(args.key):
        log.error("--cert and --key go together")
        return 2
    options = OrgOptions(page_size=args.page_size, demo=args.demo)
    create_app(settings, options=options)  # fail fast on bad settings, before gunicorn starts its worker
    tls = {"certfile": args.cert, "keyfile": args.key} if args.cert else {}
    gunicorn_settings = gthread_config(args.host, args.port, threads=args.threads, **tls)
    log.info(
        "Salesforce simulator on %s://%s:%d/services/data/ (token: /services/oauth2/token, admin: /sf-sim/admin/)",
        "https" if args.cert else "http",
        args.host,
        args.port,
    )
    GunicornServer(lambda: create_app(settings, options=options), gunicorn_settings).run()
    return 0
