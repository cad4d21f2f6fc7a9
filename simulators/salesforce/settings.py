"""The Salesforce simulator's settings (environment variables; see shared.config)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import SharedSettings, optional_text, setting


@dataclass(frozen=True)
class SalesforceSimulatorSettings(SharedSettings):
    """The one connected app the simulated org knows (the client the Salesforce system API signs in as), how it
    checks JWT bearer assertions, its token lifetime and daily API limit."""

    salesforce_client_id: str | None = setting(
        "SALESFORCE_CLIENT_ID",
        None,
        "Connected-app consumer key (and the one client the simulator knows)",
        optional_text,
    )
    salesforce_client_secret: str | None = setting(
        "SALESFORCE_CLIENT_SECRET", None, "Connected-app consumer secret (client credentials flow)", optional_text
    )
    salesforce_jwt_subject: str | None = setting(
        "SALESFORCE_JWT_SUBJECT", None, "Salesforce username the JWT bearer flow acts as", optional_text
    )
    sf_sim_jwt_certificate: str | None = setting(
        "SF_SIM_JWT_CERTIFICATE",
        None,
        "X.509 certificate (PEM, or @path) the Salesforce simulator checks JWT bearer assertions against",
        optional_text,
    )
    sf_sim_token_ttl_seconds: int = setting(
        "SF_SIM_TOKEN_TTL_SECONDS", 7200, "Lifetime of the Salesforce simulator's access tokens", int
    )
    sf_sim_daily_api_limit: int = setting(
        "SF_SIM_DAILY_API_LIMIT", 100000, "The Salesforce simulator's daily API request limit", int
    )

    def check(self) -> None:
        super().check()
        self.require_at_least_one("sf_sim_token_ttl_seconds", "sf_sim_daily_api_limit")
