"""The split deployment shape the SAP and Salesforce sections measure, as a real deployment runs it:
its own redis-server, the SAP simulator and the Salesforce simulator as processes of their own, and
`inventory-gateway serve` (not --demo) with several gunicorn workers reaching both over HTTP. The
demo network and rules are loaded without the demo's own stock; a stock sync then makes the
positions equal SAP's table (as `load_demo` does for `serve --demo`)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from gateway import demo_data
from gateway.demo import DEMO_SALESFORCE_CLIENT_ID, wait_past_second
from gateway.settings import Settings
from process_apis.inventory.bootstrap import bootstrap
from simulators.sap.seed import DEMO_LOCATION_MAP
from tests.support.redis_servers import RedisServer, free_port
from tests.support.salesforce_records import SALESFORCE_AUTH, SALESFORCE_CLIENT_SECRET
from tests.support.sap_gateway import ADMIN, ODATA, GatewayProcess, start_command, start_gateway

from .servers import start_redis

#: gunicorn workers of the gateway: on the 2-core host 3 gave lower p99s than 2 in both sections
#: (a worker waiting on SAP or Salesforce I/O leaves the GIL to the others)
WORKERS = 3
#: business-event pushes in flight at once (the broker's delivery threads): each push waits on the
#: gateway's read of the document back from the simulator, so 4 (the default) caps delivery below 200/s
PUSH_WORKERS = 16
SF_ADMIN = "/sf-sim/admin"
SYNC_TIMEOUT_SECONDS = 60


@dataclass
class SplitStack:
    """The running stack; the drivers and SAP admin calls go to `sap`, Salesforce admin calls to `salesforce`."""

    redis: RedisServer
    sap: GatewayProcess
    salesforce: GatewayProcess
    gateway: GatewayProcess
    workers: int

    def pids(self) -> dict[str, int]:
        """Process name → pid, for per-process CPU time (each pid's children included)."""
        return {
            "gateway": self.gateway.process.pid,
            "SAP simulator": self.sap.process.pid,
            "Salesforce simulator": self.salesforce.process.pid,
            "redis": self.redis.process.pid,
        }

    def stop(self) -> None:
        for process in (self.gateway, self.sap, self.salesforce):
            if process is not None:
                process.stop()
        self.redis.stop()


def describe(workers: int = WORKERS) -> str:
    """The shape, for a section header."""
    return (
        f"split shape: `serve` with {workers} gunicorn workers, `sap-sim` and `sf-sim` each its own "
        "process, own redis-server"
    )


def start_split(
    directory: Path,
    *,
    workers: int = WORKERS,
    extra_env: dict[str, str] | None = None,
    redis_server: RedisServer | None = None,
) -> SplitStack:
    """Start the whole stack (logs in `directory`), synced and past the sync's second, or raise. On
    `redis_server` if given (the chaos run's durable one), else on a throwaway one of its own."""
    directory.mkdir(parents=True, exist_ok=True)
    redis_server = redis_server or start_redis(directory / "redis")
    sap = salesforce = gateway = None
    try:
        settings = Settings(redis_url=redis_server.url)
        client = redis_server.client()
        demo_data.load(bootstrap(settings, client), with_stock=False)  # `demo-data`, without the demo's stock
        client.close()
        gateway_port = free_port()
        env = {
            "REDIS_URL": redis_server.url,
            "LOG_LEVEL": "INFO",
            "SAP_USER": "BENCH_USER",
            "SAP_PASSWORD": secrets.token_urlsafe(18),
            "SAP_WEBHOOK_SECRET": secrets.token_urlsafe(24),
            # the demo client with this run's secret, which admin calls and the e2e helpers sign in with
            "SALESFORCE_CLIENT_ID": DEMO_SALESFORCE_CLIENT_ID,
            "SALESFORCE_CLIENT_SECRET": SALESFORCE_CLIENT_SECRET,
            "PUBLISHER_WINDOW_MS": str(settings.publisher_window_ms),  # the default, whatever this shell says
            **(extra_env or {}),
        }
        sap_auth = (env["SAP_USER"], env["SAP_PASSWORD"])
        # The simulators stand in for SAP and Salesforce, which run on machines of their own; on this
        # host their access logs would only take CPU from the gateway being measured.
        simulator_env = {**env, "LOG_LEVEL": "WARNING"}
        salesforce = start_command(
            "sf-sim",
            simulator_env,
            "--demo",
            logfile=directory / "sf-sim.log",
            ready_path=f"{SF_ADMIN}/usage",
            auth=SALESFORCE_AUTH,
        )
        sap = start_command(
            "sap-sim",
            {**simulator_env, "SAP_SIM_SUBSCRIBERS": f"http://127.0.0.1:{gateway_port}/sap/v1/business-events"},
            "--demo",
            "--push-workers",
            str(PUSH_WORKERS),
            "--threads",
            str(PUSH_WORKERS),
            logfile=directory / "sap-sim.log",
            auth=sap_auth,
            ready_path=f"{ODATA}/API_MATERIAL_STOCK_SRV/$metadata",
        )
        sap.user, sap.password = sap_auth
        gateway = start_gateway(
            {
                **env,
                "SAP_BASE_URL": f"{sap.base_url}{ODATA}",
                "SALESFORCE_BASE_URL": salesforce.base_url,
                "SAP_LOCATION_MAP": json.dumps(DEMO_LOCATION_MAP),
                "GATEWAY_WORKERS": str(workers),
                "GATEWAY_THREADS": "8",
            },
            logfile=directory / "gateway.log",
            port=gateway_port,
        )
        sync = gateway.api().post(f"{gateway.base_url}/sap/v1/stock-sync", json={}, timeout=SYNC_TIMEOUT_SECONDS)
        sync.raise_for_status()
        wait_past_second(sync.json()["read_at"])
        return SplitStack(redis_server, sap, salesforce, gateway, workers)
    except BaseException:
        SplitStack(redis_server, sap, salesforce, gateway, workers).stop()
        raise


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (gunicorn workers), from /proc (Linux)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = 0
        for process in (str(pid), *children):
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    except OSError:
        return float("nan")
    return total / os.sysconf("SC_CLK_TCK")


def cpu_times(stack: SplitStack) -> dict[str, float]:
    """CPU seconds so far of each process of the stack, and of this one (the drivers' threads)."""
    mine = os.times()
    return {**{name: cpu_seconds(pid) for name, pid in stack.pids().items()}, "drivers": mine.user + mine.system}


def busy_cores(before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    """Each process's CPU time per second between two `cpu_times` (1.0: one core full)."""
    return ", ".join(f"{name} {(after[name] - before[name]) / seconds:.2f}" for name in before)


def flush_deliveries(stack: SplitStack, timeout: float) -> dict:
    """Wait until the SAP simulator has no business-event push pending; its answer."""
    answer = stack.sap.session().post(
        f"{stack.sap.base_url}{ADMIN}/deliveries/flush", json={"timeout": timeout}, timeout=timeout + 10
    )
    answer.raise_for_status()
    return answer.json()
