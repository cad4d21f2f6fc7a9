"""The experience APIs' settings (environment variables; see shared.config)."""

from __future__ import annotations

from dataclasses import dataclass

from process_apis.inventory.contract import ProcessApiSettings
from shared.config import optional_text, setting


@dataclass(frozen=True)
class ExperienceSettings(ProcessApiSettings):
    """What the web shop shows and caches, the lifetimes of channel reservations, and the abuse limits of
    channel reservations."""

    web_network_group: str = setting(
        "WEB_NETWORK_GROUP", "WEB-SHIP", "Location group whose stock the web shop ships to home from", str
    )
    web_display_cap: int = setting(
        "WEB_DISPLAY_CAP", 10, 'Largest quantity the web shop shows; more shows as e.g. "10+"', int
    )
    web_cache_max_age_seconds: int = setting(
        "WEB_CACHE_MAX_AGE_SECONDS", 5, "Cache-Control max-age of web availability answers", int
    )
    web_availability_cache_seconds: float = setting(
        "WEB_AVAILABILITY_CACHE_SECONDS",
        1.0,
        "How long a web API process reuses one availability document for "
        "the same query (0 = never; one request then refreshes it, the others get it until at most 3x this old); "
        "holds and checkout always ask the process API",
        float,
    )
    web_pickup_radius_km: float = setting(
        "WEB_PICKUP_RADIUS_KM", 50.0, "How far from the shopper's postal code pickup stores are listed", float
    )
    web_postal_codes: str | None = setting(
        "WEB_POSTAL_CODES",
        None,
        'Postal code -> [latitude, longitude]: JSON {"10115": [52.53, 13.38]} or @path; '
        "unset = the bundled German table",
        optional_text,
    )
    web_hold_ttl_seconds: int = setting(
        "WEB_HOLD_TTL_SECONDS", 900, "Lifetime of a web cart hold (RESERVATION_MAX_TTL_SECONDS caps it)", int
    )
    order_reservation_ttl_seconds: int = setting(
        "ORDER_RESERVATION_TTL_SECONDS",
        14400,
        "Lifetime of a reservation made at checkout or by a call-centre agent (RESERVATION_MAX_TTL_SECONDS caps it)",
        int,
    )
    max_units_per_line: int = setting(
        "MAX_UNITS_PER_LINE", 20, "Most units one channel reservation line may ask for (abuse limit)", int
    )
    max_lines_per_reservation: int = setting(
        "MAX_LINES_PER_RESERVATION", 50, "Most lines one channel reservation may have (abuse limit)", int
    )
    max_holds_per_cart: int = setting(
        "MAX_HOLDS_PER_CART", 20, "Most active holds one web cart may have (abuse limit)", int
    )

    def check(self) -> None:
        super().check()
        self.require(self.web_cache_max_age_seconds >= 0, "web_cache_max_age_seconds", "must be >= 0")
        self.require(self.web_availability_cache_seconds >= 0, "web_availability_cache_seconds", "must be >= 0")
        self.require_positive("web_pickup_radius_km")
        self.require_at_least_one(
            "web_display_cap",
            "web_hold_ttl_seconds",
            "order_reservation_ttl_seconds",
            "max_units_per_line",
            "max_lines_per_reservation",
            "max_holds_per_cart",
        )
