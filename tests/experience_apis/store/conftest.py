"""The store experience API on a real redis-server (the session's, emptied per test), calling an
in-process inventory process API loaded with the demo network: DC01, and stores S001 (Berlin
Mitte), S002 (Berlin Kreuzberg, 4.3 km away) and S003 (Hamburg Altona, 257 km away)."""

from __future__ import annotations

import pytest

from experience_apis.store.app import create_app
from tests.support.experience import MAX_UNITS_PER_LINE, channel_client


@pytest.fixture
def settings(redis_url, settings_for):
    return settings_for(redis_url, log_level="WARNING", max_units_per_line=MAX_UNITS_PER_LINE)


@pytest.fixture
def app(settings, process_app, redis):
    return create_app(settings, process_app=process_app, redis=redis)


@pytest.fixture
def s001(app, redis):
    """A store associate's app at S001 (a store credential bound to S001)."""
    return channel_client(app, redis, "store-s001", ["store"], store_id="S001")


@pytest.fixture
def s002(app, redis):
    return channel_client(app, redis, "store-s002", ["store"], store_id="S002")
