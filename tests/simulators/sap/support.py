"""Helpers of the simulator tests: settings, serving a WSGI app over real HTTP (werkzeug, threaded,
free port), a small stock landscape, pyodata clients, and a webhook receiver."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pyodata
import requests
from flask import Flask, request

from gateway.settings import Settings
from simulators.sap.events import DeliveryPolicy
from simulators.sap.system import SapSystem

USER, PASSWORD, SECRET = "COMM_USER", "sim-test-password", "sim-test-secret"
ODATA = "/sap/opu/odata/sap"
STOCK_SRV, DOCUMENT_SRV = "API_MATERIAL_STOCK_SRV", "API_MATERIAL_DOCUMENT_SRV"
FAST_DELIVERY = DeliveryPolicy(
    max_attempts=4, backoff_base_seconds=0.01, backoff_max_seconds=0.05, timeout_seconds=2.0, workers=1
)


def make_settings(**overrides) -> Settings:
    return Settings(**{"sap_user": USER, "sap_password": PASSWORD, "sap_webhook_secret": SECRET, **overrides})


def small_landscape(system: SapSystem) -> None:
    """Two plants, three storage locations, three materials (one sold in cartons of 12)."""
    system.stock.add_material("MAT-1001", "PC", {"KAR": 12})
    system.stock.add_material("MAT-1002", "PC")
    system.stock.add_material("MAT-1003", "EA")
    for plant, sloc in (("1010", "0001"), ("1110", "0001"), ("1110", "0002")):
        system.stock.add_storage_location(plant, sloc)
    system.stock.set_quantity("MAT-1001", "1010", "0001", "01", 100)
    system.stock.set_quantity("MAT-1001", "1110", "0001", "01", 10)
    system.stock.set_quantity("MAT-1001", "1110", "0001", "02", 4)
    system.stock.set_quantity("MAT-1002", "1110", "0002", "01", 7)
    system.stock.set_quantity("MAT-1003", "1010", "0001", "07", 3)


@dataclass
class Simulator:
    app: Flask
    url: str  # http://127.0.0.1:PORT

    @property
    def system(self) -> SapSystem:
        return self.app.extensions["sap_system"]

    def service(self, name: str) -> str:
        return f"{self.url}{ODATA}/{name}"

    def session(self) -> requests.Session:
        session = requests.Session()
        session.auth = (USER, PASSWORD)
        return session

    def pyodata(self, name: str, *, with_csrf: bool = False):
        """A pyodata client; with_csrf does the documented token fetch on the session first."""
        session = self.session()
        if with_csrf:
            answer = session.head(self.service(name) + "/", headers={"X-CSRF-Token": "Fetch"})
            session.headers["X-CSRF-Token"] = answer.headers["X-CSRF-Token"]
        return pyodata.Client(self.service(name), session)


@dataclass
class Receiver:
    """A webhook endpoint that records every push and answers from a script of status codes."""

    url: str = ""
    pushes: list[dict] = field(default_factory=list)
    script: list[int] = field(default_factory=list)  # statuses for the next pushes; then 200
    delays: list[float] = field(default_factory=list)  # seconds to stall the next pushes before answering
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("receiver")

        @app.post("/events")
        def events():
            with self.lock:
                push = {
                    "headers": dict(request.headers),
                    "body": request.get_data(),
                    "status": self.script.pop(0) if self.script else 200,
                }
                self.pushes.append(push)
                delay = self.delays.pop(0) if self.delays else 0
            time.sleep(delay)
            return "", push["status"]

        return app
