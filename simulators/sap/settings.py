"""The SAP simulator's settings (environment variables; see shared.config)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import SharedSettings, optional_text, setting, time_zone_name


@dataclass(frozen=True)
class SapSimulatorSettings(SharedSettings):
    """The one communication user the simulated S/4 accepts, and where and how it pushes business events.
    SAP_USER, SAP_PASSWORD, the webhook settings and SAP_TIME_ZONE are the ones the SAP system API reads
    too: the simulator stands for the system the gateway is configured to reach."""

    sap_user: str | None = setting("SAP_USER", None, "SAP communication user (basic auth)", optional_text)
    sap_password: str | None = setting("SAP_PASSWORD", None, "Password of SAP_USER", optional_text)
    sap_webhook_auth: str = setting(
        "SAP_WEBHOOK_AUTH",
        "hmac",
        "How SAP business-event pushes are verified: hmac (signature), basic (SAP_USER/SAP_PASSWORD) or oauth "
        "(an OAuth 2.0 bearer token of SAP_WEBHOOK_ISSUER, as SAP Event Mesh sends with OAuth2ClientCredentials)",
        str.lower,
    )
    sap_webhook_secret: str | None = setting(
        "SAP_WEBHOOK_SECRET",
        None,
        "Shared secret of the HMAC-SHA256 webhook signature (and the simulator's)",
        optional_text,
    )
    sap_time_zone: str = setting(
        "SAP_TIME_ZONE",
        "UTC",
        "IANA time zone of the SAP system's clock: its material documents' dates and times are local to it (an "
        "on-premise S/4HANA often posts e.g. Europe/Berlin); the SAP system API reads them in it and turns them "
        "into UTC, the SAP simulator posts in it",
        time_zone_name,
    )
    sap_sim_webhook_token: str | None = setting(
        "SAP_SIM_WEBHOOK_TOKEN",
        None,
        "The bearer token the SAP simulator sends with each push when SAP_WEBHOOK_AUTH=oauth (as a broker sends "
        "the token its OAuth client got from the issuer)",
        optional_text,
    )
    sap_sim_subscribers: str = setting(
        "SAP_SIM_SUBSCRIBERS", "", "Comma-separated webhook URLs the SAP simulator pushes business events to", str
    )

    def check(self) -> None:
        super().check()
        self.require(
            self.sap_webhook_auth in ("hmac", "basic", "oauth"), "sap_webhook_auth", "must be hmac, basic or oauth"
        )
        self.require_time_zone("sap_time_zone")
