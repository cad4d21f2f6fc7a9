"""`inventory-gateway sap-sync`: the stock sync from a terminal or a scheduler, with a progress bar
on stderr and the report (as POST /sap/v1/stock-sync answers it) as JSON on stdout."""

from __future__ import annotations

import sys

from tqdm import tqdm

from .app import bootstrap
from .service import sync_stock
from .settings import SapSettings


def run_stock_sync(
    settings: SapSettings,
    *,
    plants: list[str] | None = None,
    materials: list[str] | None = None,
    report_drift: bool = False,
    stream=None,
) -> dict:
    system = bootstrap(settings)
    with tqdm(desc="SAP stock records", unit="record", file=stream or sys.stderr, mininterval=0.2) as bar:

        def progress(records: int, expected: int | None) -> None:
            if expected is not None and bar.total != expected:
                bar.total = expected
                bar.refresh()
            bar.update(records)

        return sync_stock(system, plants=plants, materials=materials, report_drift=report_drift, progress=progress)
