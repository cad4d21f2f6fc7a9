"""The Salesforce system API's settings (environment variables; see shared.config)."""

from __future__ import annotations

from dataclasses import dataclass

from process_apis.inventory.contract import ProcessApiSettings
from shared.config import optional_text, setting


@dataclass(frozen=True)
class SalesforceSettings(ProcessApiSettings):
    """Where the Salesforce org is, the connected app the gateway signs in with, how availability is written
    there, and the sales channel of its OCI calls."""

    salesforce_base_url: str | None = setting(
        "SALESFORCE_BASE_URL",
        None,
        "Salesforce login / My Domain URL (https://acme.my.salesforce.com), where "
        "/services/oauth2/token is; unset = the bundled simulator inside `serve`; a Salesforce system API served on "
        "its own needs it",
        optional_text,
    )
    salesforce_client_id: str | None = setting(
        "SALESFORCE_CLIENT_ID",
        None,
        "Connected-app consumer key (and the one client the simulator knows)",
        optional_text,
    )
    salesforce_client_secret: str | None = setting(
        "SALESFORCE_CLIENT_SECRET", None, "Connected-app consumer secret (client credentials flow)", optional_text
    )
    salesforce_auth_flow: str = setting(
        "SALESFORCE_AUTH_FLOW", "client_credentials", "OAuth 2.0 flow: client_credentials or jwt_bearer", str.lower
    )
    salesforce_jwt_private_key: str | None = setting(
        "SALESFORCE_JWT_PRIVATE_KEY",
        None,
        "RS256 private key (PEM, or @path) signing JWT bearer assertions",
        optional_text,
    )
    salesforce_jwt_subject: str | None = setting(
        "SALESFORCE_JWT_SUBJECT", None, "Salesforce username the JWT bearer flow acts as", optional_text
    )
    salesforce_api_version: str = setting("SALESFORCE_API_VERSION", "62.0", "Salesforce REST API version", str)
    salesforce_outbound: str = setting(
        "SALESFORCE_OUTBOUND",
        "records",
        "How availability reaches Salesforce: records (upserts of "
        "Product_Availability__c) or platform_event (Inventory_Availability__e)",
        str.lower,
    )
    salesforce_limit_share: float = setting(
        "SALESFORCE_LIMIT_SHARE", 0.8, "Share of the daily API limit above which publishing slows down", float
    )
    salesforce_channel: str = setting(
        "SALESFORCE_CHANNEL", "web", "Sales channel Salesforce reserves and reads availability for (OCI calls)", str
    )

    def check(self) -> None:
        super().check()
        self.require(
            self.salesforce_auth_flow in ("client_credentials", "jwt_bearer"),
            "salesforce_auth_flow",
            "must be client_credentials or jwt_bearer",
        )
        self.require(
            self.salesforce_outbound in ("records", "platform_event"),
            "salesforce_outbound",
            "must be records or platform_event",
        )
        self.require(0 < self.salesforce_limit_share <= 1, "salesforce_limit_share", "must be > 0 and <= 1")
