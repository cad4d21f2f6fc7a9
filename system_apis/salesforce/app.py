"""create_app() for the Salesforce system API, and the wiring of its Salesforce and process-API clients.

Split shape: SALESFORCE_BASE_URL and INVENTORY_PROCESS_URL name the systems. All-in-one: the
composition root (gateway/) passes the in-process WSGI apps (`salesforce_app`, `process_app`). With
neither a URL nor an app the API does not start: it says which setting is missing.
"""

from __future__ import annotations

import logging

from process_apis.inventory.contract import InventoryClient, process_tier
from shared.app import create_api_app
from shared.auth import TIER_KINDS
from shared.tier_client import Timeouts

from .actions import ActionStore
from .auth import Unconfigured, flow_from_settings
from .client import SalesforceClient
from .fence import AsOfFence
from .limits import UsageMonitor
from .reservations import Reservations
from .routes import PREFIX, blp
from .service import SalesforceSystem
from .settings import SalesforceSettings

logger = logging.getLogger(__name__)


def _salesforce_client(
    settings: SalesforceSettings, salesforce_app, timeouts: Timeouts, usage: UsageMonitor, **options
) -> SalesforceClient:
    flow = flow_from_settings(settings)
    if isinstance(flow, Unconfigured):
        logger.warning(
            "Salesforce credentials are incomplete: every call to Salesforce will be refused",
            extra={"reason": flow.reason},
        )
    options = dict(
        flow=flow,
        api_version=settings.salesforce_api_version,
        usage=usage,
        timeouts=timeouts,
        attempts=settings.upstream_attempts,
        **options,
    )
    if salesforce_app is not None:
        return SalesforceClient(app=salesforce_app, **options)
    if not settings.salesforce_base_url:
        raise ValueError(
            "SALESFORCE_BASE_URL is not set: the Salesforce system API needs the org's login or "
            "My Domain URL (https://acme.my.salesforce.com), or that of `inventory-gateway sf-sim`"
        )
    return SalesforceClient(settings.salesforce_base_url, **options)


def bootstrap(
    settings: SalesforceSettings,
    *,
    process_app=None,
    salesforce_app=None,
    redis=None,
    channel: str | None = None,
    client_options: dict | None = None,
) -> SalesforceSystem:
    """The wired system; `channel` (default SALESFORCE_CHANNEL) is the sales channel of OCI calls;
    `client_options` tune the Salesforce client (e.g. max_retry_wait, backoff)."""
    timeouts = Timeouts.from_settings(settings)
    usage = UsageMonitor(settings.salesforce_limit_share)
    inventory = InventoryClient(process_tier(settings, process_app))
    return SalesforceSystem(
        settings=settings,
        salesforce=_salesforce_client(settings, salesforce_app, timeouts, usage, **(client_options or {})),
        inventory=inventory,
        usage=usage,
        reservations=Reservations(
            inventory=inventory,
            actions=ActionStore(redis, settings.idempotency_ttl_seconds),
            redis=redis,
            channel=channel or settings.salesforce_channel,
        ),
        fence=AsOfFence(redis),
    )


def create_app(
    settings: SalesforceSettings | None = None,
    *,
    process_app=None,
    salesforce_app=None,
    redis=None,
    channel: str | None = None,
    client_options: dict | None = None,
):
    settings = settings or SalesforceSettings.from_env()
    app = create_api_app(
        __name__,
        title="Salesforce system API",
        version="v1",
        settings=settings,
        blueprints=(blp,),
        redis=redis,
        auth_kinds=TIER_KINDS,
        docs_prefix=f"{PREFIX}/",
        description="Salesforce in canonical terms: availability outcomes become Salesforce records or Platform "
        "Events; Omnichannel Inventory requests (availability, reservations) become process-API calls. "
        "Nothing above this API knows a Salesforce object or field name.",
    )
    app.extensions["salesforce"] = bootstrap(
        settings,
        process_app=process_app,
        salesforce_app=salesforce_app,
        redis=app.extensions["redis"],
        channel=channel,
        client_options=client_options,
    )
    return app
