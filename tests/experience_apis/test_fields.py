"""The lifetime of a channel's reservations: its setting, capped by RESERVATION_MAX_TTL_SECONDS (pure)."""

from __future__ import annotations

from experience_apis.fields import reservation_ttl
from gateway.settings import Settings


def test_a_channel_lifetime_within_the_max_is_kept():
    settings = Settings(order_reservation_ttl_seconds=3600, web_hold_ttl_seconds=900, reservation_max_ttl_seconds=14400)
    assert reservation_ttl(settings, "order_reservation_ttl_seconds") == 3600
    assert reservation_ttl(settings, "web_hold_ttl_seconds") == 900


def test_a_channel_lifetime_above_the_max_is_capped_at_it():
    settings = Settings(
        order_reservation_ttl_seconds=86400, web_hold_ttl_seconds=7200, reservation_max_ttl_seconds=3600
    )
    assert reservation_ttl(settings, "order_reservation_ttl_seconds") == 3600
    assert reservation_ttl(settings, "web_hold_ttl_seconds") == 3600
