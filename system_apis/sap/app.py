"""create_app() for the SAP system API, and the wiring of its SAP and process-API clients.

Split shape: SAP_BASE_URL and INVENTORY_PROCESS_URL name the systems. All-in-one: the composition
root (gateway/) passes the in-process WSGI apps (`sap_app`, `process_app`). With neither a URL nor an
app the API does not start: it says which setting is missing.
"""

from __future__ import annotations

import logging
from typing import Any

from process_apis.inventory.contract import InventoryClient, process_tier
from shared.app import create_api_app
from shared.auth import TIER_KINDS
from shared.config import time_zone
from shared.tier_client import Timeouts

from .client import SapODataClient
from .document_gaps import DocumentGaps
from .document_reads import DocumentReads
from .locations import LocationMap
from .routes import blp
from .service import SapGateway
from .settings import SapSettings
from .webhook import IssuerKeys

logger = logging.getLogger(__name__)

#: Where the simulator (like S/4HANA) serves its OData services.
ODATA_ROOT = "/sap/opu/odata/sap"
#: This API's own prefix; its OpenAPI document and Swagger UI live below it too, so that it can be
#: served beside the process API in one process (the all-in-one gateway) without a clash.
PREFIX = "/sap/v1"


def _sap_client(settings: SapSettings, sap_app, timeouts: Timeouts) -> SapODataClient:
    options: dict[str, Any] = dict(
        user=settings.sap_user,
        password=settings.sap_password,
        timeouts=timeouts,
        attempts=settings.upstream_attempts,
        time_zone=time_zone(settings.sap_time_zone),
    )
    if sap_app is not None:
        return SapODataClient(app=sap_app, root=ODATA_ROOT, **options)
    if not settings.sap_base_url:
        raise ValueError(
            "SAP_BASE_URL is not set: the SAP system API needs the OData root of an S/4HANA "
            "(https://host/sap/opu/odata/sap), or of `inventory-gateway sap-sim`"
        )
    return SapODataClient(settings.sap_base_url, **options)


def bootstrap(settings: SapSettings, *, process_app=None, sap_app=None, redis=None) -> SapGateway:
    locations = LocationMap.parse(settings.sap_location_map)
    if not locations:
        logger.warning(
            "SAP_LOCATION_MAP is not set: every SAP item will be dead-lettered as unmapped_location "
            "and no stock can be synced"
        )
    if settings.sap_webhook_auth == "hmac" and not settings.sap_webhook_secret:
        logger.warning("SAP_WEBHOOK_SECRET is not set: business-event pushes will be refused (401)")
    timeouts = Timeouts.from_settings(settings)
    sap = _sap_client(settings, sap_app, timeouts)
    return SapGateway(
        settings=settings,
        sap=sap,
        documents=DocumentReads(sap, max_reads=settings.sap_reads_in_flight),
        inventory=InventoryClient(process_tier(settings, process_app)),
        locations=locations,
        issuer_keys=IssuerKeys(settings.sap_webhook_jwks, timeout_seconds=timeouts.connect + timeouts.read)
        if settings.sap_webhook_auth == "oauth" and settings.sap_webhook_jwks
        else None,
        gaps=DocumentGaps(redis, max_reads=settings.sap_gap_max_reads, check_seconds=settings.sap_gap_check_seconds)
        if redis is not None
        else None,
    )


def create_app(settings: SapSettings | None = None, *, process_app=None, sap_app=None, redis=None):
    settings = settings or SapSettings.from_env()
    app = create_api_app(
        __name__,
        title="SAP system API",
        version="v1",
        settings=settings,
        blueprints=(blp,),
        redis=redis,
        auth_kinds=TIER_KINDS,
        docs_prefix=f"{PREFIX}/",
        description="SAP S/4HANA in canonical terms: business events and stock snapshots become inventory "
        "events for the process API; stock can be read live. Nothing above this API knows an SAP "
        "field name.",
    )
    app.extensions["sap"] = bootstrap(settings, process_app=process_app, sap_app=sap_app, redis=app.extensions["redis"])
    return app
