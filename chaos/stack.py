"""The deployment the chaos run attacks: the bench's split shape (`serve` with gunicorn workers, both
simulators as processes of their own) on a redis-server with AOF that the run kills and restarts
on the same port and data directory."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from benchmarks.split import SplitStack, start_split
from process_apis.inventory.adapters.changes import GROUP
from process_apis.inventory.adapters.keys import Keys
from tests.support.redis_servers import REDIS_SERVER, RedisServer, free_port

READY_SECONDS = 10.0


@dataclass
class DurableRedis(RedisServer):
    """redis-server with AOF on a fixed port and directory, so a restart finds what it acknowledged.

    `appendfsync always`: Redis answers a write only after the AOF holds it on disk, so an event
    the gateway acknowledged survives even a host crash, not only the process kills played here.
    """

    directory: Path = Path()

    def shutdown(self) -> None:
        """SHUTDOWN, as an operator's restart does (Redis writes the AOF out and exits)."""
        try:
            with self.client() as client:
                client.shutdown()
        except redis.exceptions.ConnectionError:
            pass  # it closes the connection as it goes
        self.process.wait(timeout=READY_SECONDS)

    def kill(self) -> None:
        """kill -9: no chance to write anything out."""
        self.process.kill()
        self.process.wait(timeout=READY_SECONDS)

    def restart(self) -> None:
        self.process = _spawn(self.port, self.directory, self.logfile)


def start_durable_redis(directory: Path) -> DurableRedis:
    directory.mkdir(parents=True, exist_ok=True)
    port, logfile = free_port(), directory / "redis.log"
    return DurableRedis(port, _spawn(port, directory, logfile), logfile, directory)


def _spawn(port: int, directory: Path, logfile: Path) -> subprocess.Popen:
    command = [
        REDIS_SERVER,
        *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--logfile", str(logfile)),
        *("--save", "", "--appendonly", "yes", "--appendfsync", "always"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        try:
            with redis.Redis(host="127.0.0.1", port=port, socket_timeout=1) as client:
                if client.ping():
                    return process
        except redis.exceptions.BusyLoadingError:
            pass  # replaying its AOF: up, not yet serving
        except redis.exceptions.ConnectionError:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {logfile}") from None
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server not ready within {READY_SECONDS} s; see {logfile}")


@dataclass
class ChaosStack:
    """The running split shape and what the run needs to attack it."""

    split: SplitStack
    redis: DurableRedis
    keys: Keys

    @property
    def base_url(self) -> str:
        return self.split.gateway.base_url

    def worker_pids(self) -> list[int]:
        """The gunicorn workers of `serve` (children of its master)."""
        master = self.split.gateway.process.pid
        try:
            return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
        except OSError:
            return []

    def publisher_pid(self) -> int | None:
        """The worker whose publisher is active: on taking over, the active publisher makes itself the
        change stream's only consumer, named host:pid:…"""
        try:
            with self.redis.client() as client:
                consumers = client.xinfo_consumers(self.keys.availability_changes, GROUP)
        except redis.exceptions.RedisError:
            return None
        workers = set(self.worker_pids())
        for consumer in sorted(consumers, key=lambda c: c["idle"]):
            parts = consumer["name"].split(":")
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) in workers:
                return int(parts[1])
        return None

    def stop(self) -> None:
        self.split.stop()


def start_chaos_stack(directory: Path, *, workers: int, extra_env: dict[str, str]) -> ChaosStack:
    redis_server = start_durable_redis(directory / "redis")
    split = start_split(directory, workers=workers, extra_env=extra_env, redis_server=redis_server)
    return ChaosStack(split, redis_server, Keys())
