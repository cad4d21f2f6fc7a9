"""The SAP system API's settings (environment variables; see shared.config)."""

from __future__ import annotations

from dataclasses import dataclass

from process_apis.inventory.contract import ProcessApiSettings
from shared.config import optional_text, setting, time_zone_name


@dataclass(frozen=True)
class SapSettings(ProcessApiSettings):
    """Where SAP S/4HANA is and who the gateway is there, how business-event pushes are verified, and how SAP's
    plants and storage locations map onto the gateway's locations."""

    sap_base_url: str | None = setting(
        "SAP_BASE_URL",
        None,
        "SAP S/4HANA OData root (https://host/sap/opu/odata/sap); unset = the bundled "
        "simulator inside `serve`; a SAP system API served on its own needs it",
        optional_text,
    )
    sap_user: str | None = setting("SAP_USER", None, "SAP communication user (basic auth)", optional_text)
    sap_password: str | None = setting("SAP_PASSWORD", None, "Password of SAP_USER", optional_text)
    sap_webhook_auth: str = setting(
        "SAP_WEBHOOK_AUTH",
        "hmac",
        "How SAP business-event pushes are verified: hmac (signature), basic (SAP_USER/SAP_PASSWORD) or oauth "
        "(an OAuth 2.0 bearer token of SAP_WEBHOOK_ISSUER, as SAP Event Mesh sends with OAuth2ClientCredentials)",
        str.lower,
    )
    sap_webhook_jwks: str | None = setting(
        "SAP_WEBHOOK_JWKS",
        None,
        "oauth: the issuer's signing keys, a JWKS URL (fetched with the upstream timeouts, cached 5 minutes) or "
        "the path of a JWKS file",
        optional_text,
    )
    sap_webhook_issuer: str | None = setting(
        "SAP_WEBHOOK_ISSUER", None, "oauth: the `iss` a push's token must carry (the token issuer's URL)", optional_text
    )
    sap_webhook_audience: str | None = setting(
        "SAP_WEBHOOK_AUDIENCE", None, "oauth: an `aud` a push's token must carry (who the token is for)", optional_text
    )
    sap_webhook_secret: str | None = setting(
        "SAP_WEBHOOK_SECRET",
        None,
        "Shared secret of the HMAC-SHA256 webhook signature (and the simulator's)",
        optional_text,
    )
    sap_webhook_max_age_seconds: int = setting(
        "SAP_WEBHOOK_MAX_AGE_SECONDS", 300, "Oldest signature timestamp a webhook push may carry", int
    )
    sap_reads_in_flight: int = setting(
        "SAP_READS_IN_FLIGHT",
        4,
        "Material-document reads of SAP in flight at once per process; pushes beyond "
        "them wait and are read together, many documents per request",
        int,
    )
    sap_gap_check_seconds: float = setting(
        "SAP_GAP_CHECK_SECONDS",
        5.0,
        "How often the gap check asks SAP for material documents whose push never arrived; a lost push "
        "is repaired within about three times this",
        float,
    )
    sap_gap_max_reads: int = setting(
        "SAP_GAP_MAX_READS",
        5,
        "Reads of a gap in SAP's document numbers that find nothing before it is closed as numbers SAP "
        "never used (buffered number ranges)",
        int,
    )
    sap_time_zone: str = setting(
        "SAP_TIME_ZONE",
        "UTC",
        "IANA time zone of the SAP system's clock: its material documents' dates and times are local to it (an "
        "on-premise S/4HANA often posts e.g. Europe/Berlin); the SAP system API reads them in it and turns them "
        "into UTC, the SAP simulator posts in it",
        time_zone_name,
    )
    sap_location_map: str | None = setting(
        "SAP_LOCATION_MAP",
        None,
        'Plant/storage location -> gateway location: JSON {"1010/0001": "S001"} or @path to such a file',
        optional_text,
    )

    def check(self) -> None:
        super().check()
        self.require(
            self.sap_webhook_auth in ("hmac", "basic", "oauth"), "sap_webhook_auth", "must be hmac, basic or oauth"
        )
        if self.sap_webhook_auth == "oauth":
            for name in ("sap_webhook_jwks", "sap_webhook_issuer", "sap_webhook_audience"):
                self.require(bool(getattr(self, name)), name, "SAP_WEBHOOK_AUTH=oauth needs it")
        self.require_time_zone("sap_time_zone")
        self.require_at_least_one("sap_webhook_max_age_seconds", "sap_reads_in_flight", "sap_gap_max_reads")
        self.require_positive("sap_gap_check_seconds")
