"""The gateway's settings: every tier's, composed, and what `serve` itself reads (environment variables;
see shared.config)."""

from __future__ import annotations

from dataclasses import dataclass

from experience_apis.settings import ExperienceSettings
from process_apis.inventory.settings import InventorySettings
from shared.config import parse_bool, setting
from simulators.salesforce.settings import SalesforceSimulatorSettings
from simulators.sap.settings import SapSimulatorSettings
from system_apis.salesforce.settings import SalesforceSettings
from system_apis.sap.settings import SapSettings


@dataclass(frozen=True)
class Settings(
    InventorySettings,
    SapSettings,
    SalesforceSettings,
    ExperienceSettings,
    SapSimulatorSettings,
    SalesforceSimulatorSettings,
):
    """Every setting of the all-in-one gateway; each tier's create_app() takes it (its own part is a base
    class), and tests build it directly."""

    host: str = setting("GATEWAY_HOST", "127.0.0.1", "Address `serve` binds to", str)
    port: int = setting("GATEWAY_PORT", 8080, "TCP port `serve` listens on", int)
    workers: int = setting("GATEWAY_WORKERS", 2, "Gunicorn worker processes", int)
    threads: int = setting("GATEWAY_THREADS", 8, "Threads per gunicorn worker", int)
    demo: bool = setting("GATEWAY_DEMO", False, "Seed demo data at start-up", parse_bool)

    def check(self) -> None:
        super().check()
        self.require(1 <= self.port <= 65535, "port", "must be between 1 and 65535")
        self.require_at_least_one("workers", "threads")
