"""`SapSystem`: everything one simulated S/4 holds (stock, documents, CSRF sessions, faults, events)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.config import time_zone
from simulators.sap.csrf import CsrfSessions
from simulators.sap.events import DeliveryPolicy, EventBroker
from simulators.sap.faults import FaultInjector, FaultSettings
from simulators.sap.stock import FIRST_DOCUMENT_NUMBER, Document, StockTable

from .settings import SapSimulatorSettings

#: Entity sets whose rows can be found by whole key without a scan -> their key properties in order.
KEY_INDEXED_SETS = {
    "A_MaterialDocumentHeader": ("MaterialDocumentYear", "MaterialDocument"),
    "A_MaterialDocumentItem": ("MaterialDocumentYear", "MaterialDocument", "MaterialDocumentItem"),
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SimulatorOptions:
    """Tunables of the simulator itself (the shared `SapSimulatorSettings` hold credentials and subscribers)."""

    page_size: int = 1000  # server-side page of a collection read without $top
    allow_negative_stock: bool = False  # SAP's per-plant switch, here global (unrestricted-use stock only)
    faults: FaultSettings = field(default_factory=FaultSettings)
    delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    system_id: str = "S4H"
    client: str = "100"
    demo: bool = False  # seed the demo landscape (seed.py) at start-up
    # Material document numbers of each year start here (S/4's number range 49…); a simulator that
    # restarts against receivers remembering earlier documents starts past them instead.
    first_document_number: int = FIRST_DOCUMENT_NUMBER

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError("page_size must be >= 1")
        if not 1 <= self.first_document_number <= 9_999_999_999:
            raise ValueError("first_document_number must have 1 to 10 digits")


class SapSystem:
    def __init__(
        self,
        settings: SapSimulatorSettings,
        options: SimulatorOptions | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not settings.sap_user or not settings.sap_password:
            raise ValueError(
                "the SAP simulator needs a communication user: set SAP_USER and SAP_PASSWORD "
                "(there is no built-in default password)"
            )
        self.settings = settings
        self.options = options or SimulatorOptions()
        self.clock = clock or utc_now
        self.user, self.password = settings.sap_user, settings.sap_password
        self.page_size = self.options.page_size
        self.faults = FaultInjector(self.options.faults)
        self.stock = StockTable(
            allow_negative_stock=self.options.allow_negative_stock,
            first_document_number=self.options.first_document_number,
            numbers_skipped=self.faults.numbers_skipped,
            time_zone=time_zone(settings.sap_time_zone),
        )
        self.csrf = CsrfSessions(self.options.system_id, self.options.client)
        self.events = EventBroker(
            source=f"/default/sap.s4.beh/{self.options.system_id}CLNT{self.options.client}",
            secret=settings.sap_webhook_secret,
            user=settings.sap_user,
            password=settings.sap_password,
            faults=self.faults,
            policy=self.options.delivery,
            clock=self.clock,
        )
        for url in (u.strip() for u in settings.sap_sim_subscribers.split(",")):
            if url:
                self.events.subscribe(
                    url, mode="structured", auth=settings.sap_webhook_auth, token=settings.sap_sim_webhook_token
                )
        if self.options.demo:
            self.seed_demo()

    # --- postings (each emits MaterialDocument.Created; a cancellation Canceled too) ----------------------

    def post_document(self, header: Mapping, items: Iterable[Mapping], *, user: str | None = None) -> Document:
        document = self.stock.post(header, items, user=user or self.user, now=self.clock())
        self.events.material_document_created(*document.key)
        return document

    def cancel_document(
        self, year: str, number: str, *, item: str | None = None, posting_date=None, user: str | None = None
    ) -> Document:
        document = self.stock.cancel(
            year, number, item=item, posting_date=posting_date, user=user or self.user, now=self.clock()
        )
        self.events.material_document_created(*document.key)
        self.events.material_document_canceled(year, number)
        return document

    # --- reads by entity set (rows keyed by OData property names) ------------------------------------

    def rows(self, set_name: str, *, keys: Iterable[tuple] | None = None) -> list[dict]:
        """Every row of an entity set; with `keys` (whole keys in the entity's key order) only
        those rows, looked up by key where the set has an index (material documents and their
        items), as a database would; other sets ignore `keys` (the caller's filter still applies)."""
        if keys is not None and set_name in KEY_INDEXED_SETS:
            key_names = KEY_INDEXED_SETS[set_name]
            return [row for key in keys if (row := self.find(set_name, dict(zip(key_names, key)))) is not None]
        if set_name == "A_MaterialStock":
            return self.stock.material_rows()
        if set_name == "A_MatlStkInAcctMod":
            return self.stock.stock_rows()
        if set_name == "A_MaterialDocumentHeader":
            return [document.header for document in self.stock.documents()]
        if set_name == "A_MaterialDocumentItem":
            return [item for document in self.stock.documents() for item in document.items]
        raise KeyError(set_name)

    def find(self, set_name: str, key: Mapping[str, str]) -> dict | None:
        if set_name == "A_MaterialDocumentHeader":
            document = self.stock.document(key["MaterialDocumentYear"], key["MaterialDocument"])
            return document.header if document else None
        if set_name == "A_MaterialDocumentItem":
            document = self.stock.document(key["MaterialDocumentYear"], key["MaterialDocument"])
            items = document.items if document else []
            return next((i for i in items if i["MaterialDocumentItem"] == key["MaterialDocumentItem"]), None)
        return next((row for row in self.rows(set_name) if all(row[k] == v for k, v in key.items())), None)

    def related(self, set_name: str, navigation: str, row: Mapping) -> list[dict]:
        if (set_name, navigation) == ("A_MaterialDocumentHeader", "to_MaterialDocumentItem"):
            document = self.stock.document(row["MaterialDocumentYear"], row["MaterialDocument"])
            return list(document.items) if document else []
        if (set_name, navigation) == ("A_MaterialStock", "to_MatlStkInAcctMod"):
            return [r for r in self.stock.stock_rows() if r["Material"] == row["Material"]]
        raise KeyError(f"{set_name}/{navigation}")

    # --- admin ---------------------------------------------------------------------------------------

    def stock_snapshot(self) -> dict:
        """The whole stock table as plain JSON (quantities as numbers) for tests and demos."""

        def number(value):
            return int(value) if value == value.to_integral_value() else float(value)

        return {
            "allow_negative_stock": self.stock.allow_negative_stock,
            "materials": [
                {
                    "material": m.material,
                    "base_unit": m.base_unit,
                    "conversions": {u: number(f) for u, f in m.conversions.items()},
                }
                for m in self.stock.materials()
            ],
            "storage_locations": [f"{plant}/{sloc}" for plant, sloc in self.stock.storage_locations()],
            "stock": [
                {
                    "material": r["Material"],
                    "plant": r["Plant"],
                    "storage_location": r["StorageLocation"],
                    "batch": r["Batch"],
                    "stock_type": r["InventoryStockType"],
                    "quantity": number(r["MatlWrhsStkQtyInMatlBaseUnit"]),
                    "unit": r["MaterialBaseUnit"],
                }
                for r in self.stock.stock_rows()
            ],
        }

    def seed_demo(self) -> None:
        from simulators.sap.seed import seed_demo

        seed_demo(self)

    def reset(self, *, demo: bool = False) -> None:
        """Empty stock and documents, forget pending pushes and counters, restore the initial faults."""
        self.stock.clear()
        self.stock.allow_negative_stock = self.options.allow_negative_stock
        self.events.reset()
        self.faults.reset()
        if demo:
            self.seed_demo()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every event push is delivered or parked (see EventBroker.flush)."""
        return self.events.flush(timeout)

    def close(self) -> None:
        self.events.close()
