"""The expiry sweeper: releases reservations whose TTL has passed, within about a second.

Runs as a daemon thread inside `serve` and in the foreground as `inventory-gateway worker`.
Several sweepers may run at once: each release is idempotent and each status change is a
compare-and-set, so a reservation is expired exactly once.
"""

from __future__ import annotations

import logging
import threading

from .bootstrap import Inventory
from .service.reservations import expire_due

log = logging.getLogger(__name__)
BATCH = 100


def sweep_once(inventory: Inventory) -> int:
    total = 0
    while True:
        expired = expire_due(inventory, BATCH)
        total += expired
        if expired < BATCH:
            return total


def run(inventory: Inventory, stop: threading.Event) -> None:
    interval = inventory.settings.sweeper_interval_seconds
    while not stop.is_set():
        try:
            if expired := sweep_once(inventory):
                log.info("expired reservations released", extra={"count": expired})
        except Exception:  # a Redis outage must not kill the sweeper; it retries next tick
            log.exception("expiry sweep failed")
        stop.wait(interval)


def start_in_background(inventory: Inventory) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run, args=(inventory, stop), name="expiry-sweeper", daemon=True).start()
    return stop
