"""The credentials `serve --demo` creates: one per kind of client, printed once at start-up."""

from __future__ import annotations

from .credentials import CredentialStore, new_api_key
from .scopes import CHANNEL, OPERATOR, SERVICE, SERVICE_SCOPE, SYSTEM

DEMO_STORE = "S001"

#: client id -> (kind, scopes, store, name)
DEMO_CLIENTS = {
    "demo-web-shop": (CHANNEL, ("web",), None, "Demo web shop"),
    "demo-store-s001": (CHANNEL, ("store",), DEMO_STORE, f"Demo store associate, store {DEMO_STORE}"),
    "demo-call-centre": (CHANNEL, ("call-centre",), None, "Demo call-centre console"),
    "demo-operator": (OPERATOR, ("inventory:read", "inventory:write", "inventory:admin", "sap:admin"), None,
                      "Demo operator"),
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
        store.create(client_id, kind=kind, scopes=scopes, name=name, store_id=store_id, rotate=True,
                     api_key=keys[client_id])
    return keys
