"""The web shop's side of the shared InventoryClient: always the `web` channel, the network's own
misconfiguration a 502 (not the shopper's 404), the location list cached, and Idempotency-Keys
namespaced for the process API."""

from __future__ import annotations

import hashlib
import threading
import time

from process_apis.inventory.contract import InventoryClient
from shared.errors import Problem
from shared.tier_client import TierClient

CHANNEL = "web"
#: The network changes rarely (an admin PUTs a store); availability reads need it on every pickup query.
LOCATIONS_TTL_SECONDS = 30.0
#: The process API's page size limit of GET /reservations.
PAGE = 200
MAX_PAGES = 10


def upstream_key(*parts: str) -> str:
    """An Idempotency-Key for the process API: its keys are not scoped per calling tier, so ours are
    namespaced and made of everything that identifies the web operation (client, cart, the shopper's key)."""
    return "web:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:48]


class WebInventory(InventoryClient):
    """What the web experience API asks of the process API, always as the `web` channel."""

    def __init__(self, tier: TierClient, *, locations_ttl: float = LOCATIONS_TTL_SECONDS, clock=time.monotonic) -> None:
        super().__init__(tier)
        self._locations_ttl, self._clock = locations_ttl, clock
        self._locations: tuple[float, list[dict]] | None = None
        self._lock = threading.Lock()

    # availability ----------------------------------------------------------------------------
    def group_availability(self, skus: list[str], group: str) -> dict[str, dict]:
        """sku -> the group's availability for the web channel."""
        answer = self._web_availability(skus, location_group=group)
        return {item["sku"]: item for item in answer.get("groups", [])}

    def position_availability(self, skus: list[str], locations: list[str]) -> dict[tuple[str, str], dict]:
        """(sku, location) -> the position's availability for the web channel."""
        answer = self._web_availability(skus, locations=locations)
        return {(item["sku"], item["location"]): item for item in answer.get("positions", [])}

    def _web_availability(self, skus: list[str], **place) -> dict:
        try:
            return self.availability(skus=skus, channel=CHANNEL, **place)
        except Problem as problem:
            if problem.status == 404:  # an unknown group or location is our configuration, not the shopper's
                raise Problem(
                    502, f"the web network is misconfigured: {problem.detail}", type_slug="web-network-misconfigured"
                ) from None
            raise

    def locations(self) -> list[dict]:
        """Every location of the network (cached for LOCATIONS_TTL_SECONDS)."""
        now = self._clock()
        with self._lock:
            if self._locations is not None and now - self._locations[0] < self._locations_ttl:
                return self._locations[1]
        found = super().locations()
        with self._lock:
            self._locations = (now, found)
        return found

    # reservations ----------------------------------------------------------------------------
    def active_reservations(self, external_ref: str) -> list[dict]:
        """The web channel's active reservations with `external_ref`, newest first."""
        found, after = [], None
        for _ in range(MAX_PAGES):
            page = self.reservations(
                external_ref=external_ref, channel=CHANNEL, status="active", limit=PAGE, after=after
            )
            found += page.get("items", [])
            after = page.get("next")
            if not after:
                break
        return found

    def find_reservation(self, reservation_id: str) -> dict | None:
        """The reservation, or None when the process API has none with this id."""
        try:
            return self.reservation(reservation_id)
        except Problem as problem:
            if problem.status == 404:
                return None
            raise
