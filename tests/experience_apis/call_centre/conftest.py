"""The call-centre experience API on a real redis-server (the session's, emptied per test), calling
an in-process inventory process API loaded with the demo network (DC01, S001–S003 serve the call
centre; the groups WEB-SHIP and BERLIN-PICKUP are the web's)."""

from __future__ import annotations

import pytest

from experience_apis.call_centre.app import create_app
from tests.support.experience import MAX_LINES, MAX_UNITS_PER_LINE, ORDER_TTL_SECONDS, channel_client


@pytest.fixture
def settings(redis_url, settings_for):
    return settings_for(
        redis_url,
        log_level="WARNING",
        max_units_per_line=MAX_UNITS_PER_LINE,
        max_lines_per_reservation=MAX_LINES,
        order_reservation_ttl_seconds=ORDER_TTL_SECONDS,
    )


@pytest.fixture
def app(settings, process_app, redis):
    return create_app(settings, process_app=process_app, redis=redis)


@pytest.fixture
def agent(app, redis):
    """The call-centre console (a channel credential with the call-centre scope)."""
    return channel_client(app, redis, "call-centre", ["call-centre"])
