"""`python -m simulators.salesforce [--port 8083] [--demo] [--cert C --key K]`: serve the org (serve.py)."""

import argparse
import sys

from shared.logging import configure_logging
from simulators.salesforce.serve import add_arguments, serve

from .settings import SalesforceSimulatorSettings

cli = argparse.ArgumentParser(prog="python -m simulators.salesforce", description="Serve the Salesforce simulator.")
add_arguments(cli)
settings = SalesforceSimulatorSettings.from_env()
configure_logging(settings.log_level)
sys.exit(serve(cli.parse_args(), settings))
