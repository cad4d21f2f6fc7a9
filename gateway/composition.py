"""The all-in-one shape: every API in one WSGI app, routed by path prefix, each tier calling the one
below in-process (the tier client's WSGI transport: same method, path, headers and JSON, no socket).

    /inventory/v1                  the inventory process API
    /sap/v1                        the SAP system API (its docs at /sap/v1/docs, /sap/v1/openapi.json)
    /sap/opu/odata, /sap-sim       the bundled SAP S/4HANA simulator, only when SAP_BASE_URL is unset
    /salesforce/v1                 the Salesforce system API (its docs at /salesforce/v1/docs)
    /services, /sf-sim             the bundled Salesforce org simulator, only when SALESFORCE_BASE_URL is unset
    /web/v1, /store/v1, /call-centre/v1   the experience APIs (their docs at /web/v1/docs, ...)
    anything else                  the process API app (/livez, /readyz, /metrics, /docs, /openapi.json)

The simulator's business events reach the SAP system API's webhook in-process too: its broker's
session carries a WSGI transport to this gateway, so a push goes through the same routing, HMAC or
Basic check and CloudEvent parsing as one over HTTP, but never waits for a free server thread and
does not depend on the address the server happens to bind. Likewise the availability publisher
sends its outcomes to the Salesforce system API in-process unless SALESFORCE_SYSTEM_URL names one.
This package is the composition root: the only code that knows every tier and the simulators.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from typing import Any

from experience_apis.call_centre.app import create_app as create_call_centre_api
from experience_apis.store.app import create_app as create_store_api
from experience_apis.web.app import create_app as create_web_api
from process_apis.inventory import publisher, sweeper
from process_apis.inventory.app import create_app as create_process_app
from shared.auth import tier_api_key
from shared.redis import create_redis, is_embedded
from shared.tier_client import IN_PROCESS_BASE, InProcessSession, TierClient, tier_options
from simulators.salesforce.app import create_app as create_salesforce_simulator
from simulators.salesforce.org import OrgOptions
from simulators.sap.app import create_app as create_simulator
from simulators.sap.events import DeliveryPolicy
from simulators.sap.stock import FIRST_DOCUMENT_NUMBER
from simulators.sap.system import SimulatorOptions
from system_apis.salesforce.app import create_app as create_salesforce_api
from system_apis.sap import gap_check
from system_apis.sap.app import create_app as create_sap_api
from system_apis.sap.service import sync_stock

from .docs_index import DOCS_PATH, create_docs_app
from .settings import Settings

log = logging.getLogger("inventory_gateway")

PROCESS_PREFIX = "/inventory/v1"
SAP_API_PREFIX = "/sap/v1"
SIMULATOR_PREFIXES = ("/sap/opu/odata", "/sap-sim")
ODATA_ROOT = "/sap/opu/odata/sap"
WEBHOOK_PATH = f"{SAP_API_PREFIX}/business-events"
#: Where the simulator pushes business events when it runs inside the gateway.
IN_PROCESS_WEBHOOK = f"{IN_PROCESS_BASE}{WEBHOOK_PATH}"
#: Concurrent business-event deliveries of the in-process simulator.
PUSH_WORKERS = 4
#: Counts starts of the in-process simulator on a persistent store (see _unused_document_numbers).
SIMULATOR_STARTS_KEY = "sap-sim:starts"
DOCUMENT_NUMBER_BLOCK = 1_000_000
SALESFORCE_API_PREFIX = "/salesforce/v1"
#: prefix -> create_app(settings, *, process_app, redis) of each channel-facing API.
EXPERIENCE_APIS = {"/web/v1": create_web_api, "/store/v1": create_store_api, "/call-centre/v1": create_call_centre_api}
SALESFORCE_SIMULATOR_PREFIXES = ("/services", "/sf-sim")


class PrefixDispatcher:
    """Hands each request to the app of the longest matching path prefix, the path unchanged
    (every app already routes its own full paths); anything unmatched goes to `default`."""

    def __init__(self, default, routes: dict[str, Any]) -> None:
        self.default = default
        self.routes = sorted(routes.items(), key=lambda route: len(route[0]), reverse=True)

    def app_for(self, path: str):
        for prefix, app in self.routes:
            if path == prefix or path.startswith(prefix + "/"):
                return app
        return self.default

    def __call__(self, environ, start_response):
        return self.app_for(environ.get("PATH_INFO", ""))(environ, start_response)


@dataclass
class Gateway:
    """The composed WSGI app and the apps it is made of (all but `process_app` may be None)."""

    settings: Settings
    process_app: Any
    sap_api: Any = None
    simulator: Any = None  # the SAP simulator
    salesforce_api: Any = None
    salesforce_simulator: Any = None
    #: prefix -> app of each experience API
    experience_apis: dict[str, Any] = dataclasses.field(default_factory=dict)
    dispatcher: PrefixDispatcher | None = None

    def __call__(self, environ, start_response):
        assert self.dispatcher is not None  # create_gateway sets it before the gateway serves
        return self.dispatcher(environ, start_response)

    @property
    def inventory(self):
        return self.process_app.extensions["inventory"]

    @property
    def sap_system(self):
        """The simulated S/4's state (`simulators.sap.system.SapSystem`), when it runs in here."""
        return self.simulator.extensions["sap_system"] if self.simulator is not None else None

    @property
    def salesforce_org(self):
        """The simulated Salesforce org (`simulators.salesforce.org.SalesforceOrg`), when it runs in here."""
        return self.salesforce_simulator.extensions["salesforce_org"] if self.salesforce_simulator is not None else None

    def start_background(self) -> list[threading.Event]:
        """Start the reservation expiry sweeper, with the SAP system API the gap check of SAP's document
        numbers, and, with a Salesforce system API to send to, the availability publisher; call it in the
        serving process (after a fork). Set the returned events to stop them. The SAP simulator's broker
        starts its delivery threads itself, on the first event."""
        stops = [sweeper.start_in_background(self.inventory)]
        if self.sap_api is not None:
            stops.append(gap_check.start_in_background(self.sap_api.extensions["sap"]))
        tier = publisher.tier_from_settings(self.settings)
        if tier is None and self.salesforce_api is not None:
            tier = TierClient(
                "salesforce-system",
                app=self.salesforce_api,
                **tier_options(self.settings),
                api_key=tier_api_key(self.settings),
            )
        if tier is not None:
            stops.append(
                publisher.start_in_background(self.inventory, tier, window_ms=self.settings.publisher_window_ms)
            )
        else:
            log.info(
                "availability publisher off: no Salesforce system API in this gateway and SALESFORCE_SYSTEM_URL unset"
            )
        return stops

    def sync_sap_stock(self) -> dict:
        """Snapshot SAP's stock into the gateway (what `POST /sap/v1/stock-sync` does)."""
        if self.sap_api is None:
            raise RuntimeError("the SAP system API is not part of this gateway")
        return sync_stock(self.sap_api.extensions["sap"])

    def check_sap_gaps(self, *, now: float | None = None) -> dict:
        """One round of the gap check of SAP's document numbers (what the background check runs)."""
        if self.sap_api is None:
            raise RuntimeError("the SAP system API is not part of this gateway")
        return gap_check.check_document_gaps(self.sap_api.extensions["sap"], now=now)

    def close(self) -> None:
        if self.sap_system is not None:
            self.sap_system.close()


def simulator_in_process(settings: Settings) -> bool:
    """With no SAP_BASE_URL the gateway plays SAP itself, with the bundled simulator."""
    return not settings.sap_base_url


def single_process_reasons(settings: Settings) -> list[str]:
    """Why this configuration can only be served by one process (empty: any number of workers)."""
    reasons = []
    if is_embedded(settings):
        reasons.append("the embedded store lives inside one process (set REDIS_URL to run more)")
    if simulator_in_process(settings) and settings.sap_user and settings.sap_password:
        reasons.append(
            "the SAP simulator keeps its stock and documents inside one process "
            "(set SAP_BASE_URL to a real S/4HANA or to `inventory-gateway sap-sim` to run more)"
        )
    if salesforce_simulator_in_process(settings) and salesforce_client_set(settings):
        reasons.append(
            "the Salesforce simulator keeps its records inside one process "
            "(set SALESFORCE_BASE_URL to a real org or to `inventory-gateway sf-sim` to run more)"
        )
    return reasons


def salesforce_simulator_in_process(settings: Settings) -> bool:
    """With no SALESFORCE_BASE_URL the gateway plays Salesforce itself, with the bundled simulator."""
    return not settings.salesforce_base_url


def salesforce_client_set(settings: Settings) -> bool:
    return bool(settings.salesforce_client_id and settings.salesforce_client_secret)


def create_gateway(settings: Settings, redis=None, *, simulator_options=None, salesforce_options=None) -> Gateway:
    """Every API of the gateway in one WSGI app sharing one Redis client (`redis`, or one made from
    `settings`). Without SAP_BASE_URL the SAP simulator runs inside (it needs SAP_USER and
    SAP_PASSWORD; without them the SAP parts are left out, with a warning), built with
    `simulator_options` (`simulators.sap.system.SimulatorOptions`), and its business events are
    subscribed to this gateway's webhook. Salesforce likewise: without SALESFORCE_BASE_URL the
    Salesforce simulator (built with `salesforce_options`, `simulators.salesforce.org.OrgOptions`) runs
    inside, given SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET."""
    redis = redis if redis is not None else create_redis(settings)
    process_app = create_process_app(settings, redis)
    gateway = Gateway(settings, process_app)
    routes: dict[str, Any] = {PROCESS_PREFIX: process_app}
    if simulator_in_process(settings) and not (settings.sap_user and settings.sap_password):
        log.warning(
            "SAP_BASE_URL, SAP_USER and SAP_PASSWORD are not set: serving without the SAP system API "
            "and the SAP simulator (set them, or run `serve --demo`)"
        )
    else:
        if simulator_in_process(settings):
            options = simulator_options or gateway_simulator_options()
            if not is_embedded(settings) and options.first_document_number == FIRST_DOCUMENT_NUMBER:
                options = dataclasses.replace(options, first_document_number=_unused_document_numbers(redis))
            gateway.simulator = create_simulator(settings, options=options)
            routes.update(dict.fromkeys(SIMULATOR_PREFIXES, gateway.simulator))
        gateway.sap_api = create_sap_api(settings, process_app=process_app, sap_app=gateway.simulator, redis=redis)
        routes[SAP_API_PREFIX] = gateway.sap_api
    _add_salesforce(gateway, routes, redis, salesforce_options)
    for prefix, create_experience_api in EXPERIENCE_APIS.items():
        gateway.experience_apis[prefix] = create_experience_api(settings, process_app=process_app, redis=redis)
    routes.update(gateway.experience_apis)
    routes[DOCS_PATH] = create_docs_app(_documents(routes, process_app))
    gateway.dispatcher = PrefixDispatcher(process_app, routes)
    if gateway.simulator is not None:
        _subscribe_webhook(gateway)
    return gateway


def _documents(routes: dict[str, Any], process_app) -> list[tuple[str, str]]:
    """(title, openapi.json path) of every API of the gateway, experience APIs first."""
    apis = [(prefix, app) for prefix, app in routes.items() if "api" in app.extensions and prefix != PROCESS_PREFIX]
    order = [*EXPERIENCE_APIS, SAP_API_PREFIX, SALESFORCE_API_PREFIX]
    apis.sort(key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    documents = [(app.config["API_TITLE"], f"{prefix}/openapi.json") for prefix, app in apis]
    return documents + [(process_app.config["API_TITLE"], "/openapi.json")]


def _add_salesforce(gateway: Gateway, routes: dict[str, Any], redis, options) -> None:
    settings = gateway.settings
    if salesforce_simulator_in_process(settings) and not salesforce_client_set(settings):
        log.warning(
            "SALESFORCE_BASE_URL, SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET are not set: serving "
            "without the Salesforce system API and simulator (set them, or run `serve --demo`)"
        )
        return
    if salesforce_simulator_in_process(settings):
        gateway.salesforce_simulator = create_salesforce_simulator(settings, options=options)
        routes.update(dict.fromkeys(SALESFORCE_SIMULATOR_PREFIXES, gateway.salesforce_simulator))
    gateway.salesforce_api = create_salesforce_api(
        settings, process_app=gateway.process_app, salesforce_app=gateway.salesforce_simulator, redis=redis
    )
    routes[SALESFORCE_API_PREFIX] = gateway.salesforce_api


def _unused_document_numbers(redis) -> int:
    """Where this start of the in-process simulator begins numbering material documents.

    Each start is a fresh SAP numbering from 4900000000, but a persistent store remembers the event
    ids (sap:{year}:{document}:{item}) of earlier starts for INVENTORY_DEDUP_TTL_SECONDS, and a reused
    number would make a new document look like a redelivered one. So each start takes the next block
    of a million numbers (a hundred blocks, then round again)."""
    return FIRST_DOCUMENT_NUMBER + redis.incr(SIMULATOR_STARTS_KEY) % 100 * DOCUMENT_NUMBER_BLOCK


def _subscribe_webhook(gateway: Gateway) -> None:
    events = gateway.sap_system.events
    # The broker's delivery threads start with the first event, so swapping its session is safe here;
    # pushes to SAP_SIM_SUBSCRIBERS (other URLs) still go over HTTP through it.
    events.session.close()
    events.session = InProcessSession(gateway)
    try:
        events.subscribe(
            IN_PROCESS_WEBHOOK,
            mode="structured",
            auth=gateway.settings.sap_webhook_auth,
            token=gateway.settings.sap_sim_webhook_token,
        )
    except ValueError as error:
        log.warning("the SAP simulator's business events cannot reach the gateway's webhook: %s", error)


def gateway_simulator_options(*, demo: bool = False) -> SimulatorOptions:
    """How the gateway runs its in-process simulator: the demo landscape or an empty one, and as
    many concurrent pushes as a broker would make (a push waits on Redis and on the GIL, so two
    delivery threads, the simulator's own default, leave the gateway idle under load)."""
    return SimulatorOptions(demo=demo, delivery=DeliveryPolicy(workers=PUSH_WORKERS))


def salesforce_simulator_options(*, demo: bool = False) -> OrgOptions:
    """How the gateway runs its in-process Salesforce simulator: with the demo products or empty."""
    return OrgOptions(demo=demo)
