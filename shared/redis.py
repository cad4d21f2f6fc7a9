"""The one Redis connection factory: embedded in-memory store, standalone server, or cluster."""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit, urlunsplit

import fakeredis
import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from shared.config import CLUSTER_SCHEMES, SharedSettings

logger = logging.getLogger(__name__)

_embedded_server: fakeredis.FakeServer | None = None
_embedded_lock = threading.Lock()


def is_embedded(settings: SharedSettings) -> bool:
    """True when no REDIS_URL is configured and the in-process store is used."""
    return not settings.redis_url


def create_redis(settings: SharedSettings) -> redis.Redis | RedisCluster | fakeredis.FakeRedis:
    """A client for the configured store; every client returns `str`, not `bytes`."""
    if is_embedded(settings):
        return _create_embedded()
    assert settings.redis_url  # not embedded: a URL is configured
    if settings.redis_cluster:
        return _create_cluster(settings.redis_url, settings)
    return redis.Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        health_check_interval=30,
        # Fail within about a second when Redis is down, instead of redis-py's ten retries.
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.25), retries=3),
    )


def _create_embedded() -> fakeredis.FakeRedis:
    global _embedded_server
    with _embedded_lock:
        # One server per process, so every app and client of the process sees the same data.
        if _embedded_server is None:
            _embedded_server = fakeredis.FakeServer()
    logger.warning(
        "REDIS_URL is not set: using the embedded in-memory Redis. It serves this process only "
        "(run a single worker) and nothing persists across restarts."
    )
    return fakeredis.FakeRedis(server=_embedded_server, decode_responses=True)


def _create_cluster(url: str, settings: SharedSettings) -> RedisCluster:
    parts = urlsplit(url)
    if parts.scheme in CLUSTER_SCHEMES:
        parts = parts._replace(scheme=parts.scheme.removesuffix("+cluster"))
    # Connects to the seed node to discover the slot map, so an unreachable cluster fails here.
    return RedisCluster.from_url(
        urlunsplit(parts),
        decode_responses=True,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
    )
