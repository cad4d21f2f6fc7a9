"""Fixtures shared by every test folder: real Redis servers (standalone and cluster), no mocks.

The tree mirrors the source; speed and reach are markers (pyproject.toml), set here:
- `integration`: a real redis-server (any test using the fixtures below, marked `redis` / `cluster`);
- `e2e`: whole processes over HTTP (a module says so with `pytestmark = pytest.mark.e2e`);
- `unit`: everything else: nothing outside the test's own process (`make test-fast` runs these);
- `slow`: a test taking more than a few seconds (marked where it is defined).

Without redis-server on PATH, Redis tests are skipped locally and fail under CI=1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
import redis

from gateway.settings import Settings
from tests.support.redis_servers import (
    RedisClusterNodes,
    missing_binaries,
    start_redis_cluster,
    start_redis_server,
)

_REDIS_FIXTURES = {"redis_server", "redis_url"}
_CLUSTER_FIXTURES = {"redis_cluster", "redis_cluster_nodes", "cluster_url"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _REDIS_FIXTURES:
            item.add_marker(pytest.mark.redis)
        if fixtures & _CLUSTER_FIXTURES:
            item.add_marker(pytest.mark.cluster)
        # A fixture choosing its Redis at run time (getfixturevalue) marks its params `redis` / `cluster`.
        if item.get_closest_marker("redis") or item.get_closest_marker("cluster"):
            item.add_marker(pytest.mark.integration)
        if not any(item.get_closest_marker(name) for name in ("integration", "e2e")):
            item.add_marker(pytest.mark.unit)


def _require_redis_binaries() -> None:
    missing = missing_binaries()
    if missing:
        reason = f"redis-server not installed: {', '.join(missing)} not on PATH (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL (redis://127.0.0.1:PORT/0) of a redis-server started for this test session."""
    _require_redis_binaries()
    server = start_redis_server(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session redis-server's URL, emptied (FLUSHALL) for this test."""
    with redis.Redis.from_url(redis_server) as client:
        client.flushall()
    return redis_server


@pytest.fixture(scope="session")
def redis_cluster_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    """The three master nodes of a Redis Cluster started for this test session."""
    _require_redis_binaries()
    cluster = start_redis_cluster(tmp_path_factory.mktemp("redis-cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_cluster(redis_cluster_nodes: RedisClusterNodes) -> str:
    """Seed URL (redis+cluster://127.0.0.1:PORT) of the session's Redis Cluster."""
    return redis_cluster_nodes.url


@pytest.fixture
def cluster_url(redis_cluster_nodes: RedisClusterNodes) -> str:
    """The session cluster's URL, every master emptied for this test."""
    redis_cluster_nodes.flush()
    return redis_cluster_nodes.url


@pytest.fixture
def settings_for() -> Callable[..., Settings]:
    """`settings_for(url, **overrides)` → Settings pointing at `url` (None = embedded store)."""

    def build(url: str | None = None, **overrides) -> Settings:
        return Settings(redis_url=url, **overrides)

    return build
