"""The SAP simulator's settings (environment variables; see shared.config)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import SharedSettings, optional_text, setting


@dataclass(frozen=True)
class SapSimulatorSettings(SharedSettings):
    """The one communication user the simulated S/4 accepts, and where and how it pushes business events.
    SAP_USER, SAP_PASSWORD and the webhook settings are the ones the SAP system API reads too: the
    simulator stands for the system the gateway is configured to reach."""

    sap_user: str | None = setting("SAP_USER", None, "SAP communication user (basic auth)", optional_text)
    sap_password: str | None = setting("SAP_PASSWORD", None, "Password of SAP_USER", optional_text)
    sap_webhook_auth: str = setting(
        "SAP_WEBHOOK_AUTH", "hmac", "How SAP business-event pushes are verified: hmac or basic", str.lower
    )
    sap_webhook_secret: str | None = setting(
        "SAP_WEBHOOK_SECRET",
        None,
        "Shared secret of the HMAC-SHA256 webhook signature (and the simulator's)",
        optional_text,
    )
    sap_sim_subscribers: str = setting(
        "SAP_SIM_SUBSCRIBERS", "", "Comma-separated webhook URLs the SAP simulator pushes business events to", str
    )

    def check(self) -> None:
        super().check()
        self.require(self.sap_webhook_auth in ("hmac", "basic"), "sap_webhook_auth", "must be hmac or basic")
