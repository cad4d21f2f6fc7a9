"""Calls to the inventory process API through the tier client, for what Salesforce asks of it:
availability, reservations (create, read, release, fulfil) and dead letters. Every write carries
an Idempotency-Key, so the tier client may retry it and a repeat replays the first answer."""
from __future__ import annotations

from system_apis.sap.inventory_client import InventoryClient as _EventsAndDeadLetters

AVAILABILITY = "/inventory/v1/availability"
RESERVATIONS = "/inventory/v1/reservations"


class InventoryClient(_EventsAndDeadLetters):
    """The SAP system API's client (events, dead letters) plus reservations and availability."""

    def availability(self, *, skus: list[str], locations: list[str] | None = None,
                     location_group: str | None = None, channel: str | None = None) -> dict:
        params = {"sku": skus, "location": locations or [], "location_group": location_group, "channel": channel}
        return self.tier.request("GET", AVAILABILITY,
                                 params={k: v for k, v in params.items() if v not in (None, [])}).json()

    def reserve(self, request: dict, *, idempotency_key: str) -> dict:
        """The reservation, 201; a Problem (409 with `shortfalls` when stock is short) otherwise."""
        return self.tier.request("POST", RESERVATIONS, json=request, idempotency_key=idempotency_key).json()

    def reservation(self, reservation_id: str) -> dict:
        return self.tier.request("GET", f"{RESERVATIONS}/{reservation_id}").json()

    def release(self, reservation_id: str, lines: list[dict] | None, *, idempotency_key: str) -> dict:
        body = {"lines": lines} if lines else {}
        return self.tier.request("POST", f"{RESERVATIONS}/{reservation_id}/release", json=body,
                                 idempotency_key=idempotency_key).json()

    def fulfil(self, reservation_id: str, *, idempotency_key: str) -> dict:
        return self.tier.request("POST", f"{RESERVATIONS}/{reservation_id}/fulfil",
                                 idempotency_key=idempotency_key).json()
