"""Traffic driver: posts realistic retail goods movements to an S/4 OData API at a steady rate.

It behaves like an SAP client: Basic auth, CSRF token fetch (HEAD with `X-CSRF-Token: Fetch`,
session cookie), deep insert of A_MaterialDocumentHeader, the Cancel function import. It keeps
its own view of stock (read through A_MatlStkInAcctMod, updated from each created document) and
never attempts an issue that view cannot cover; a rejected posting, a 5xx or a timeout makes it
re-read that material's stock. One thread, so its view stays consistent.

    python -m simulators.sap.driver --rate 50 --duration 10 --base-url http://127.0.0.1:8081/sap/opu/odata/sap \
        --user USER --password PASSWORD
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.cookies import SimpleCookie
from typing import cast

import requests

from shared.tier_client import session_for
from simulators.sap.movements import (
    BLOCKED,
    IN_TRANSIT,
    QUALITY_INSPECTION,
    UNRESTRICTED,
    reversal_type,
    stock_changes,
)
from simulators.sap.seed import CARTON, CARTON_SIZE, DC_PLANTS, DEMO_LOCATION_MAP, DEMO_MATERIALS

DOCUMENT_SERVICE = "API_MATERIAL_DOCUMENT_SRV"
STOCK_SERVICE = "API_MATERIAL_STOCK_SRV"
READ_ATTEMPTS = 5
# scenario: relative weight (POS sales dominate retail traffic)
SCENARIOS = {
    "pos_sale": 30,
    "pos_return": 5,
    "receipt": 8,
    "customer_return": 5,
    "inspection": 5,
    "transfer_one_step": 5,
    "transfer_two_step": 6,
    "stock_transport_order": 6,
    "scrap": 3,
    "inventory_difference": 4,
    "cancel": 3,
}

ViewKey = tuple[str, str, str, str]  # material, plant, storage location, stock type


@dataclass
class DriverResult:
    posted: int = 0  # documents created (cancellation documents included)
    cancelled: int = 0
    rejected: int = 0  # 4xx answers (e.g. a deficit the driver's view did not foresee)
    errors: int = 0  # 5xx answers, timeouts, connection errors
    skipped: int = 0  # ticks whose scenario had nothing to work on
    by_movement_type: Counter = field(default_factory=Counter)
    by_scenario: Counter = field(default_factory=Counter)
    elapsed_seconds: float = 0.0
    documents: list[tuple[str, str]] = field(default_factory=list)  # (year, number) of every created document

    def to_dict(self) -> dict:
        return {
            "posted": self.posted,
            "cancelled": self.cancelled,
            "rejected": self.rejected,
            "errors": self.errors,
            "skipped": self.skipped,
            "by_movement_type": dict(sorted(self.by_movement_type.items())),
            "by_scenario": dict(sorted(self.by_scenario.items())),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "rate": round(self.posted / self.elapsed_seconds, 2) if self.elapsed_seconds else 0.0,
        }


class ODataClient:
    """The few calls the driver makes, the way an SAP integration makes them."""

    def __init__(
        self, base_url: str, user: str, password: str, *, session: requests.Session | None = None, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or session_for(self.base_url)
        self.session.auth = (user, password)
        self.timeout = timeout
        self._token: str | None = None

    def _fetch_token(self) -> None:
        response = self.session.head(
            f"{self.base_url}/{DOCUMENT_SERVICE}/", headers={"X-CSRF-Token": "Fetch"}, timeout=self.timeout
        )
        response.raise_for_status()
        self._token = response.headers["X-CSRF-Token"]
        # A transport without a socket (in-process WSGI) does not fill the cookie jar itself.
        cookie = SimpleCookie(response.headers.get("Set-Cookie", ""))
        for name, morsel in cookie.items():
            if name not in self.session.cookies:
                self.session.cookies.set(name, morsel.value, path=morsel["path"] or "/")

    def _post(self, path: str, **kwargs) -> requests.Response:
        for _attempt in (1, 2):
            if self._token is None:
                self._fetch_token()
            assert self._token is not None  # fetched just above when missing
            response = self.session.post(
                f"{self.base_url}/{DOCUMENT_SERVICE}/{path}",
                timeout=self.timeout,
                headers={"X-CSRF-Token": self._token, "Accept": "application/json"},
                **kwargs,
            )
            if response.status_code == 403 and response.headers.get("X-CSRF-Token", "").lower() == "required":
                self._token = None  # session expired: fetch a new token once
                continue
            return response
        return response

    def post_document(self, header: dict, items: list[dict]) -> requests.Response:
        return self._post("A_MaterialDocumentHeader", json={**header, "to_MaterialDocumentItem": items})

    def cancel(self, year: str, number: str) -> requests.Response:
        return self._post(f"Cancel?MaterialDocumentYear='{year}'&MaterialDocument='{number}'")

    def stock_rows(self, material: str | None = None) -> list[dict]:
        """Every A_MatlStkInAcctMod row (of one material), following server-side paging."""
        params = {
            "$format": "json",
            "$select": "Material,Plant,StorageLocation,Batch,InventoryStockType,MatlWrhsStkQtyInMatlBaseUnit",
        }
        if material is not None:
            params["$filter"] = f"Material eq '{material}'"
        url: str | None = f"{self.base_url}/{STOCK_SERVICE}/A_MatlStkInAcctMod"
        query: dict[str, str] | None = params  # the first page's: a __next link carries it
        rows: list[dict] = []
        while url:
            body = self._read(url, query)
            rows += body["results"]
            url, query = body.get("__next"), None
        return rows

    def _read(self, url: str, params: dict | None) -> dict:
        """A GET is safe to repeat: retried on 5xx, timeouts and connection errors."""
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                response = self.session.get(
                    url, params=params, timeout=self.timeout, headers={"Accept": "application/json"}
                )
            except (requests.ConnectionError, requests.Timeout):
                if attempt == READ_ATTEMPTS:
                    raise
            else:
                if response.status_code < 500 or attempt == READ_ATTEMPTS:
                    response.raise_for_status()
                    return response.json()["d"]
            time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")


def _sap_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)})/"


class TrafficDriver:
    """Chooses and posts one plausible movement per `step()`."""

    def __init__(
        self,
        client: ODataClient,
        *,
        seed: int = 0,
        locations: Iterable[str] = tuple(DEMO_LOCATION_MAP),
        dc_plants: Iterable[str] = DC_PLANTS,
        carton_materials: Iterable[str] = DEMO_MATERIALS,
    ) -> None:
        self.client = client
        self.random = random.Random(seed)
        self.locations = [cast(tuple[str, str], tuple(loc.split("/"))) for loc in locations]  # plant/sloc
        self.dcs = [loc for loc in self.locations if loc[0] in set(dc_plants)] or self.locations[:1]
        self.stores = [loc for loc in self.locations if loc not in self.dcs] or self.locations
        self.carton_materials = frozenset(carton_materials)  # materials with the KAR (12 PC) unit
        self.view: dict[ViewKey, int] = {}
        self.materials: list[str] = []
        self.in_transit: deque = deque(maxlen=500)  # (kind, material, receiving plant/sloc, supplying plant, qty)
        self.cancellable: deque = deque(maxlen=200)  # (year, number, items)
        self.result = DriverResult()

    # --- stock view ------------------------------------------------------------------------------

    def refresh(self, material: str | None = None) -> None:
        rows = self.client.stock_rows(material)
        if material is not None:
            self.view = {k: v for k, v in self.view.items() if k[0] != material}
        for row in rows:
            if row.get("Batch"):
                continue
            key = (row["Material"], row["Plant"], row["StorageLocation"], row["InventoryStockType"])
            self.view[key] = int(Decimal(row["MatlWrhsStkQtyInMatlBaseUnit"]))
        if material is None:
            self.materials = sorted({k[0] for k in self.view})

    def _have(self, material: str, location: tuple[str, str], stock_type: str) -> int:
        return self.view.get((material, *location, stock_type), 0)

    def _covered(self, items: list[dict]) -> bool:
        need: Counter = Counter()
        for item in items:
            for plant, sloc, stock_type, sign in self._changes(item):
                need[(item["Material"], plant, sloc, stock_type)] -= sign * int(Decimal(item["QuantityInBaseUnit"]))
        return all(self.view.get(key, 0) >= amount for key, amount in need.items() if amount > 0)

    @staticmethod
    def _changes(item: dict) -> list[tuple[str, str, str, int]]:
        return stock_changes(
            item["GoodsMovementType"],
            plant=item["Plant"],
            storage_location=item["StorageLocation"],
            partner_plant=item.get("IssuingOrReceivingPlant", ""),
            partner_storage_location=item.get("IssuingOrReceivingStorageLoc", ""),
            stock_type=item.get("InventoryStockType", ""),
        )

    def _apply(self, items: list[dict]) -> None:
        for item in items:
            quantity = int(Decimal(item["QuantityInBaseUnit"]))
            for plant, sloc, stock_type, sign in self._changes(item):
                key = (item["Material"], plant, sloc, stock_type)
                self.view[key] = self.view.get(key, 0) + sign * quantity

    # --- scenarios: each returns (GoodsMovementCode, items) or None when nothing fits ------------------

    def _item(self, movement_type: str, material: str, location: tuple[str, str], quantity: int, **extra) -> dict:
        # No EntryUnit: SAP then takes the material's base unit.
        return {
            "GoodsMovementType": movement_type,
            "Material": material,
            "Plant": location[0],
            "StorageLocation": location[1],
            "QuantityInEntryUnit": str(quantity),
            "QuantityInBaseUnit": str(quantity),
            **extra,
        }

    def _issue(self, movement_type: str, locations, stock_type: str, most: int, **extra):
        material, location = self.random.choice(self.materials), self.random.choice(locations)
        available = self._have(material, location, stock_type)
        if available < 1:
            return None
        return self._item(movement_type, material, location, self.random.randint(1, min(most, available)), **extra)

    def pos_sale(self):
        item = self._issue("251", self.stores, UNRESTRICTED, 3)
        return item and ("03", [item])

    def pos_return(self):
        return "05", [self._item("252", self.random.choice(self.materials), self.random.choice(self.stores), 1)]

    def receipt(self):
        material, location = self.random.choice(self.materials), self.random.choice(self.dcs)
        if material in self.carton_materials and self.random.random() < 0.5:
            cartons = self.random.randint(1, 3)
            item = self._item(
                "101", material, location, cartons * CARTON_SIZE, QuantityInEntryUnit=str(cartons), EntryUnit=CARTON
            )
        else:
            item = self._item("101", material, location, self.random.randint(10, 50))
        return "05", [item]

    def customer_return(self):
        movement = self.random.choice(("651", "655"))
        return "05", [
            self._item(
                movement, self.random.choice(self.materials), self.random.choice(self.stores), self.random.randint(1, 2)
            )
        ]

    def inspection(self):
        item = self._issue(self.random.choice(("321", "350")), self.locations, QUALITY_INSPECTION, 2)
        return item and ("04", [item])

    def transfer_one_step(self):
        if self.random.random() < 0.5:
            destination = self.random.choice(self.stores)
            item = self._issue(
                "301",
                self.dcs,
                UNRESTRICTED,
                10,
                IssuingOrReceivingPlant=destination[0],
                IssuingOrReceivingStorageLoc=destination[1],
            )
            if item and destination[0] == item["Plant"]:
                return None
        else:
            sources = [loc for loc in self.locations if self._siblings(loc)]
            if not sources:
                return None
            source = self.random.choice(sources)
            item = self._issue(
                "311",
                [source],
                UNRESTRICTED,
                5,
                IssuingOrReceivingStorageLoc=self.random.choice(self._siblings(source))[1],
            )
        return item and ("04", [item])

    def _siblings(self, location: tuple[str, str]) -> list[tuple[str, str]]:
        return [other for other in self.locations if other[0] == location[0] and other != location]

    def _receive(self, kind: str):
        """The second step of an earlier 303 (a 305) or 641 (a 101 on the transport order), if any."""
        arrived = [t for t in self.in_transit if t[0] == kind]
        if not arrived:
            return None
        entry = arrived[0]
        _, material, receiving, supplying_plant, quantity = entry
        if self._have(material, receiving, IN_TRANSIT) < quantity:
            self.in_transit.remove(entry)
            return None
        self.in_transit.remove(entry)
        if kind == "303":
            return "04", [self._item("305", material, receiving, quantity)]
        return "01", [self._item("101", material, receiving, quantity, IssuingOrReceivingPlant=supplying_plant)]

    def _ship(self, movement_type: str):
        destination = self.random.choice(self.stores)
        item = self._issue(
            movement_type,
            self.dcs,
            UNRESTRICTED,
            12,
            IssuingOrReceivingPlant=destination[0],
            IssuingOrReceivingStorageLoc=destination[1],
        )
        if not item or destination[0] == item["Plant"]:
            return None
        return ("04" if movement_type == "303" else "03"), [item]

    def transfer_two_step(self):
        return (self.random.random() < 0.5 and self._receive("303")) or self._ship("303")

    def stock_transport_order(self):
        return (self.random.random() < 0.5 and self._receive("641")) or self._ship("641")

    def scrap(self):
        stock_type = self.random.choice((UNRESTRICTED, BLOCKED))
        item = self._issue("551", self.locations, stock_type, 2, InventoryStockType=stock_type)
        return item and ("03", [item])

    def inventory_difference(self):
        if self.random.random() < 0.5:
            return "03", [
                self._item(
                    "701",
                    self.random.choice(self.materials),
                    self.random.choice(self.locations),
                    self.random.randint(1, 2),
                )
            ]
        item = self._issue("702", self.locations, UNRESTRICTED, 2)
        return item and ("03", [item])

    # --- one tick ----------------------------------------------------------------------------------

    def step(self) -> str:
        if not self.materials:
            self.refresh()
        scenario = self.random.choices(list(SCENARIOS), weights=list(SCENARIOS.values()))[0]
        if scenario == "cancel":
            return self._cancel()
        planned = getattr(self, scenario)()
        if not planned:
            self.result.skipped += 1
            return "skipped"
        code, items = planned
        header = {
            "GoodsMovementCode": code,
            "PostingDate": _sap_date(datetime.now(UTC)),
            "MaterialDocumentHeaderText": f"driver {scenario}"[:25],
        }
        try:
            response = self.client.post_document(header, items)
        except requests.RequestException:
            return self._failed(items, error=True)
        if response.status_code != 201:
            return self._failed(items, error=response.status_code >= 500)
        document = response.json()["d"]
        created = document["to_MaterialDocumentItem"]["results"]
        self._apply(created)
        self._record(scenario, document, created)
        for item in created:
            if item["GoodsMovementType"] in ("303", "641"):
                receiving = (item["IssuingOrReceivingPlant"], item["IssuingOrReceivingStorageLoc"])
                self.in_transit.append(
                    (
                        item["GoodsMovementType"],
                        item["Material"],
                        receiving,
                        item["Plant"],
                        int(Decimal(item["QuantityInBaseUnit"])),
                    )
                )
        return scenario

    def _record(self, scenario: str, document: dict, items: list[dict]) -> None:
        self.result.posted += 1
        self.result.by_scenario[scenario] += 1
        self.result.documents.append((document["MaterialDocumentYear"], document["MaterialDocument"]))
        for item in items:
            self.result.by_movement_type[item["GoodsMovementType"]] += 1
        if scenario != "cancel" and all(reversal_type(i["GoodsMovementType"]) for i in items):
            self.cancellable.append((document["MaterialDocumentYear"], document["MaterialDocument"], items))

    def _failed(self, items: list[dict], *, error: bool) -> str:
        if error:
            self.result.errors += 1
        else:
            self.result.rejected += 1
        try:
            for material in {item["Material"] for item in items}:
                self.refresh(material)  # the view was wrong, or the posting may have happened after all
        except requests.RequestException:
            pass
        return "error" if error else "rejected"

    def _cancel(self) -> str:
        candidates = list(self.cancellable)
        self.random.shuffle(candidates)
        for year, number, items in candidates[:5]:
            reversal = [{**i, "GoodsMovementType": reversal_type(i["GoodsMovementType"])} for i in items]
            if not self._covered(reversal):
                continue
            self.cancellable.remove((year, number, items))
            try:
                response = self.client.cancel(year, number)
            except requests.RequestException:
                return self._failed(items, error=True)
            if response.status_code != 200:
                return self._failed(items, error=response.status_code >= 500)
            document = response.json()["d"]
            created = document["to_MaterialDocumentItem"]["results"]
            self._apply(created)
            self._record("cancel", document, created)
            self.result.cancelled += 1
            return "cancel"
        self.result.skipped += 1
        return "skipped"


def run_traffic(
    base_url: str,
    user: str,
    password: str,
    *,
    rate: float = 50.0,
    duration: float = 10.0,
    max_documents: int | None = None,
    seed: int = 0,
    timeout: float = 10.0,
    session: requests.Session | None = None,
    locations: Iterable[str] = tuple(DEMO_LOCATION_MAP),
    dc_plants: Iterable[str] = DC_PLANTS,
) -> DriverResult:
    """Post movements at `rate` per second for `duration` seconds (or until `max_documents` ticks).

    `base_url` is the OData root (…/sap/opu/odata/sap). Pass `session` to use another transport
    (e.g. the tier client's in-process WSGI adapter mounted on it).
    """
    if rate <= 0:
        raise ValueError("rate must be > 0")
    client = ODataClient(base_url, user, password, session=session, timeout=timeout)
    driver = TrafficDriver(client, seed=seed, locations=locations, dc_plants=dc_plants)
    driver.refresh()
    interval, started = 1.0 / rate, time.monotonic()
    next_tick, ticks = started, 0
    while time.monotonic() - started < duration and (max_documents is None or ticks < max_documents):
        now = time.monotonic()
        if next_tick > now:
            time.sleep(next_tick - now)
        # Keep the pace, but after a stall catch up by at most one second's worth of ticks.
        next_tick = max(next_tick + interval, time.monotonic() - 1.0)
        driver.step()
        ticks += 1
    driver.result.elapsed_seconds = time.monotonic() - started
    return driver.result


def main(argv: list[str] | None = None) -> int:
    from simulators.sap.settings import SapSimulatorSettings

    settings = SapSimulatorSettings.from_env()
    parser = argparse.ArgumentParser(prog="python -m simulators.sap.driver", description=__doc__.splitlines()[0])
    # SAP_BASE_URL, as the SAP system API reads it: the driver posts where the gateway reads.
    parser.add_argument("--base-url", default=os.environ.get("SAP_BASE_URL"), help="OData root, …/sap/opu/odata/sap")
    parser.add_argument("--user", default=settings.sap_user)
    parser.add_argument("--password", default=settings.sap_password)
    parser.add_argument("--rate", type=float, default=50.0, help="documents per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("--max-documents", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per HTTP call")
    args = parser.parse_args(argv)
    if not (args.base_url and args.user and args.password):
        parser.error("--base-url, --user and --password are required (or SAP_BASE_URL, SAP_USER, SAP_PASSWORD)")
    result = run_traffic(
        args.base_url,
        args.user,
        args.password,
        rate=args.rate,
        duration=args.duration,
        max_documents=args.max_documents,
        seed=args.seed,
        timeout=args.timeout,
    )
    print(json.dumps(result.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
