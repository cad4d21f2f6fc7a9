"""Demo mode (`serve --demo`): settings made up for this run, one credential per kind of client, the
demo network and rules, and stock from the SAP simulator."""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.auth import CredentialStore, new_api_key
from shared.auth.scopes import CHANNEL, OPERATOR, SERVICE, SERVICE_SCOPE, SYSTEM
from simulators.sap.seed import DEMO_LOCATION_MAP

from . import demo_data
from .composition import Gateway, salesforce_simulator_in_process, simulator_in_process
from .settings import Settings

log = logging.getLogger("inventory_gateway")

#: The Salesforce simulator's connected app in demo mode. The id is fixed, so the README can give it; its
#: secret (which with the id also opens the simulator's admin API) is made up for each run, like SAP's
#: password (set SALESFORCE_CLIENT_ID/SECRET to choose others).
DEMO_SALESFORCE_CLIENT_ID = "3MVG9.inventory-gateway.demo"

DEMO_STORE = "S001"

#: client id -> (kind, scopes, store, name)
DEMO_CLIENTS = {
    "demo-web-shop": (CHANNEL, ("web",), None, "Demo web shop"),
    "demo-store-s001": (CHANNEL, ("store",), DEMO_STORE, f"Demo store associate, store {DEMO_STORE}"),
    "demo-call-centre": (CHANNEL, ("call-centre",), None, "Demo call-centre console"),
    "demo-operator": (
        OPERATOR,
        ("inventory:read", "inventory:write", "inventory:admin", "sap:admin"),
        None,
        "Demo operator",
    ),
    "demo-salesforce": (SYSTEM, ("salesforce:oci",), None, "Demo Salesforce org"),
    "demo-service": (SERVICE, (SERVICE_SCOPE,), None, "Demo tier-to-tier service account"),
}


def demo_keys() -> dict[str, str]:
    """A fresh API key for every demo client (client id -> key), made before any store exists so the
    serving process can print them while its workers create the credentials."""
    return {client_id: new_api_key(client_id) for client_id in DEMO_CLIENTS}


def create_demo_credentials(store: CredentialStore, keys: dict[str, str] | None = None) -> dict[str, str]:
    """Create (or rotate, so a restart prints working keys) every demo credential with `keys` (default
    fresh ones); client id -> API key."""
    keys = keys or demo_keys()
    for client_id, (kind, scopes, store_id, name) in DEMO_CLIENTS.items():
        store.create(
            client_id, kind=kind, scopes=scopes, name=name, store_id=store_id, rotate=True, api_key=keys[client_id]
        )
    return keys


@dataclass(frozen=True)
class DemoCredentials:
    """Which settings demo mode made up for this run (never written anywhere)."""

    user: bool = False
    password: bool = False
    webhook_secret: bool = False
    location_map: bool = False
    salesforce_secret: bool = False


def demo_settings(settings: Settings) -> tuple[Settings, DemoCredentials]:
    """Settings for `serve --demo`. With the SAP simulator inside the gateway, the SAP credentials and
    webhook secret left unset are generated at random for this run (there is no built-in password),
    and SAP_LOCATION_MAP defaults to the simulator's demo landscape. With the Salesforce simulator
    inside, its connected app defaults to the demo client id the README gives, with a secret generated for
    this run unless SALESFORCE_CLIENT_SECRET is set."""
    changes: dict[str, Any] = {}
    salesforce_secret = salesforce_simulator_in_process(settings) and not settings.salesforce_client_secret
    if salesforce_simulator_in_process(settings):
        changes["salesforce_client_id"] = settings.salesforce_client_id or DEMO_SALESFORCE_CLIENT_ID
    if salesforce_secret:
        changes["salesforce_client_secret"] = secrets.token_urlsafe(24)
    if not simulator_in_process(settings):
        return dataclasses.replace(settings, **changes), DemoCredentials(salesforce_secret=salesforce_secret)
    generated = DemoCredentials(
        user=not settings.sap_user,
        password=not settings.sap_password,
        webhook_secret=not settings.sap_webhook_secret,
        location_map=not settings.sap_location_map,
        salesforce_secret=salesforce_secret,
    )
    if generated.user:
        changes["sap_user"] = f"DEMO_{secrets.token_hex(3).upper()}"
    if generated.password:
        changes["sap_password"] = secrets.token_urlsafe(18)
    if generated.webhook_secret:
        changes["sap_webhook_secret"] = secrets.token_urlsafe(32)
    if generated.location_map:
        changes["sap_location_map"] = json.dumps(DEMO_LOCATION_MAP)
    return dataclasses.replace(settings, **changes), generated


def load_demo(gateway: Gateway, keys: dict[str, str] | None = None) -> dict:
    """The demo credentials (with `keys`, from `demo_keys()`, when given), the demo network,
    groups and rules into the process API; its stock from SAP (a stock sync), so the gateway's positions
    equal SAP's stock table. Without SAP, the demo's own counted stock."""
    if keys:
        create_demo_credentials(gateway.process_app.extensions["credentials"], keys)
    if gateway.sap_api is None:
        result = demo_data.load(gateway.inventory)
        log.info(
            "demo data loaded (no SAP: the demo's own stock)",
            extra={"applied": result["applied"], "duplicate": result["duplicate"]},
        )
        return {"stock": "demo", **{k: result[k] for k in ("applied", "duplicate")}}
    demo_data.load(gateway.inventory, with_stock=False)
    sync = gateway.sync_sap_stock()
    wait_past_second(sync["read_at"])
    log.info(
        "demo network loaded; stock synced from SAP",
        extra={"positions": sync["positions"], "applied": sync["events"]["applied"]},
    )
    return {"stock": "sap", "positions": sync["positions"], "applied": sync["events"]["applied"]}


def wait_past_second(read_at: str) -> None:
    """Sleep until the whole second in which a stock read started (ISO time) is over.

    SAP stamps a material document to the second (CreationDate + CreationTime), so one created later
    in the same second as the read would look no newer than the snapshot and be skipped as already
    counted. Movements posted after this returns are always newer than the snapshot."""
    started = datetime.fromisoformat(read_at.replace("Z", "+00:00"))
    next_second = started.replace(microsecond=0) + timedelta(seconds=1)
    remaining = (next_second - datetime.now(UTC)).total_seconds()
    if remaining > 0:
        time.sleep(remaining + 0.005)
