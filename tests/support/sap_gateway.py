"""The all-in-one gateway with its SAP simulator, as the e2e tests and the bench run it: served over
real HTTP (a `serve` subprocess, or `create_gateway` in a threaded werkzeug server), and the two
stock tables compared: the simulator's own (admin API) and the gateway's positions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

from tests.support.auth import stored_service_key
from tests.support.processes import ROOT, await_ready, stop_process
from tests.support.redis_servers import free_port

ODATA = "/sap/opu/odata/sap"
DOCUMENT_SRV = f"{ODATA}/API_MATERIAL_DOCUMENT_SRV"
ADMIN = "/sap-sim/admin"
#: SAP stock type -> the gateway position field it is mirrored into.
STOCK_TYPES = {"01": "on_hand", "02": "quality_inspection", "07": "blocked", "06": "in_transit"}
FIELDS = tuple(STOCK_TYPES.values())
TIMEOUT = 10
_CREDENTIALS = re.compile(r"SAP user / password\s+(\S+) / (\S+)")
_DEMO_SERVICE_KEY = re.compile(r"^\s+demo-service\s+(igw_\S+)", re.MULTILINE)

Table = dict[tuple[str, str], dict[str, int]]


@dataclass
class GatewayProcess:
    """`inventory-gateway serve` in a subprocess; its combined stdout and stderr go to `logfile`."""

    base_url: str
    process: subprocess.Popen
    logfile: Path
    user: str = ""
    password: str = ""
    #: A service credential's key (the demo's, or one stored in the gateway's REDIS_URL).
    api_key: str = ""

    def output(self) -> str:
        return self.logfile.read_text(errors="replace")

    def stop(self) -> str:
        stop_process(self.process)
        return self.output()

    def session(self) -> requests.Session:
        """A session with the SAP communication user's Basic credentials (for the simulator) and the
        API key as X-API-Key (for the gateway's APIs)."""
        session = self.api()
        session.auth = (self.user, self.password)
        return session

    def api(self) -> requests.Session:
        """A session calling the gateway's APIs with the service API key."""
        session = requests.Session()
        session.headers["X-API-Key"] = self.api_key
        return session


def start_gateway(
    env: dict[str, str], *args: str, logfile: Path, timeout: float = 30.0, port: int | None = None
) -> GatewayProcess:
    """Run `inventory-gateway serve --port <port or a free one> *args` with `env` over os.environ and
    wait until /readyz answers; the SAP credentials are those in `env`, else the ones the banner prints."""
    gateway = start_command("serve", env, *args, logfile=logfile, timeout=timeout, port=port)
    output = gateway.output()
    printed = _CREDENTIALS.search(output)
    gateway.user = env.get("SAP_USER") or (printed.group(1) if printed else "")
    gateway.password = env.get("SAP_PASSWORD") or (printed.group(2) if printed else "")
    demo_key = _DEMO_SERVICE_KEY.search(output)
    if demo_key:
        gateway.api_key = demo_key.group(1)
    elif env.get("REDIS_URL"):
        gateway.api_key = stored_service_key(redis.Redis.from_url(env["REDIS_URL"], decode_responses=True))
    return gateway


def start_command(
    command: str,
    env: dict[str, str],
    *args: str,
    logfile: Path,
    timeout: float = 30.0,
    port: int | None = None,
    ready_path: str = "/readyz",
    auth: tuple[str, str] | None = None,
) -> GatewayProcess:
    """Run `inventory-gateway <command> --port <port or a free one> *args` (serve, sap-sim, sf-sim)
    with `env` over os.environ and wait until GET `ready_path` (with `auth`) answers 200."""
    port = port or free_port()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    with open(logfile, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", command, "--port", str(port), *args],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    served = GatewayProcess(f"http://127.0.0.1:{port}", process, logfile)
    await_ready(served, f"{served.base_url}{ready_path}", name=command, timeout=timeout, auth=auth)
    return served


def sap_table(snapshot: dict, location_map: dict[str, str]) -> Table:
    """The simulator's stock table (GET /sap-sim/admin/stock) summed per mapped location, in the
    gateway's terms; all-zero positions left out."""
    table: Table = {}
    for row in snapshot["stock"]:
        location = location_map.get(f"{row['plant']}/{row['storage_location']}")
        if location is None or row["stock_type"] not in STOCK_TYPES:
            continue
        position = table.setdefault((row["material"], location), dict.fromkeys(FIELDS, 0))
        position[STOCK_TYPES[row["stock_type"]]] += row["quantity"]
    return {key: fields for key, fields in table.items() if any(fields.values())}


def gateway_table(base_url: str, skus: Iterable[str], session: requests.Session | None = None) -> Table:
    """The gateway's stock fields of every position of `skus`; all-zero positions left out."""
    http = session or requests
    skus = sorted(set(skus))
    table: Table = {}
    for start in range(0, len(skus), 100):
        answer = http.get(
            f"{base_url}/inventory/v1/availability", params={"sku": skus[start : start + 100]}, timeout=TIMEOUT
        )
        answer.raise_for_status()
        for position in answer.json()["positions"]:
            fields = {name: position[name] for name in FIELDS}
            if any(fields.values()):
                table[(position["sku"], position["location"])] = fields
    return table


def differences(sap: Table, gateway: Table) -> list[str]:
    """Every position field where the two tables disagree, as readable lines (empty: equal)."""
    lines = []
    for key in sorted(set(sap) | set(gateway)):
        want, have = sap.get(key, dict.fromkeys(FIELDS, 0)), gateway.get(key, dict.fromkeys(FIELDS, 0))
        for name in FIELDS:
            if want[name] != have[name]:
                lines.append(f"{key[0]}@{key[1]} {name}: SAP {want[name]}, gateway {have[name]}")
    return lines


@dataclass
class CsrfSession:
    """An OData client session the way SAP integrations hold one: Basic auth, a CSRF token fetched
    with `X-CSRF-Token: Fetch` and sent back with the session cookie on every write."""

    base_url: str
    user: str
    password: str
    http: requests.Session = field(default_factory=requests.Session)
    token: str = ""

    def __post_init__(self) -> None:
        self.http.auth = (self.user, self.password)
        answer = self.http.head(f"{self.base_url}{DOCUMENT_SRV}/", headers={"X-CSRF-Token": "Fetch"}, timeout=TIMEOUT)
        answer.raise_for_status()
        self.token = answer.headers["X-CSRF-Token"]

    def post_movement(
        self,
        movement_type: str,
        material: str,
        plant: str,
        storage_location: str,
        quantity: int,
        code: str = "03",
        **fields,
    ) -> dict:
        """Deep-insert a one-item material document; SAP's answer (`d`)."""
        item = {
            "GoodsMovementType": movement_type,
            "Material": material,
            "Plant": plant,
            "StorageLocation": storage_location,
            "QuantityInEntryUnit": str(quantity),
            **fields,
        }
        answer = self.http.post(
            f"{self.base_url}{DOCUMENT_SRV}/A_MaterialDocumentHeader",
            json={"GoodsMovementCode": code, "to_MaterialDocumentItem": [item]},
            headers={"X-CSRF-Token": self.token, "Accept": "application/json"},
            timeout=TIMEOUT,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["d"]
