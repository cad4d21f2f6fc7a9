"""The benchmark's own processes: a throwaway redis-server and gunicorn serving an app factory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import Gunicorn
from tests.support.processes import start_gunicorn as serve_factory
from tests.support.redis_servers import RedisServer, free_port, start_redis_server

__all__ = ["Gunicorn", "ServerConfig", "balanced_connections", "start_gunicorn", "start_redis"]


def start_redis(directory: Path) -> RedisServer:
    """redis-server on a free port, no RDB/AOF (start_redis_server never picks 6379)."""
    return start_redis_server(directory)


#: gunicorn gthread workers all accept from one socket: a burst of keep-alive connections (wrk's 32 opening
#: at once) sometimes lands on one worker entirely, and the run measures half the server (seen in a
#: quarter of 2 s runs). Capping each worker's connections at its share, plus a few for the bench's own
#: requests, spreads them as a load balancer in front of the workers would.
SPARE_CONNECTIONS = 4


def balanced_connections(clients: int, workers: int) -> int:
    """gunicorn `--worker-connections` spreading `clients` keep-alive connections over `workers`."""
    return -(-clients // workers) + SPARE_CONNECTIONS


@dataclass(frozen=True)
class ServerConfig:
    workers: int
    threads: int

    def __str__(self) -> str:
        return f"gunicorn gthread {self.workers} workers x {self.threads} threads"


def start_gunicorn(
    factory: str,
    config: ServerConfig,
    *,
    redis_url: str,
    directory: Path,
    ready_path: str,
    clients: int,
    timeout: float = 30.0,
    log_level: str = "INFO",
) -> Gunicorn:
    """Serve `factory` (e.g. "benchmarks.wsgi:inventory()") for up to `clients` keep-alive clients at
    once and wait until `ready_path` answers 200."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    return serve_factory(
        factory,
        env={"REDIS_URL": redis_url, "LOG_LEVEL": log_level},
        logfile=directory / f"gunicorn-{port}.log",
        workers=config.workers,
        threads=config.threads,
        port=port,
        ready_path=ready_path,
        timeout=timeout,
        worker_connections=balanced_connections(clients, config.workers),
    )
