"""Fixtures of the channel API tests, over each channel folder's own `settings` fixture: its Redis, and
an in-process inventory process API with the demo network (tests/support/experience.py)."""

from __future__ import annotations

import pytest

from shared.redis import create_redis
from tests.support.auth import service_client
from tests.support.experience import process_with_demo


@pytest.fixture
def redis(settings):
    client = create_redis(settings)
    yield client
    client.close()


@pytest.fixture
def process_app(settings, redis):
    return process_with_demo(settings, redis)


@pytest.fixture
def process(process_app):
    """The process API as a tier-to-tier service calls it: to set up stock and check outcomes."""
    return service_client(process_app)
