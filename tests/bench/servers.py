"""The benchmark's own processes: a throwaway redis-server and gunicorn serving an app factory."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.redis_servers import RedisServer, free_port, start_redis_server
from tests.support.processes import stop_process

ROOT = Path(__file__).resolve().parents[2]


def start_redis(directory: Path) -> RedisServer:
    """redis-server on a free port, no RDB/AOF (start_redis_server never picks 6379)."""
    return start_redis_server(directory)


@dataclass(frozen=True)
class ServerConfig:
    workers: int
    threads: int

    def __str__(self) -> str:
        return f"gunicorn gthread {self.workers} workers x {self.threads} threads"


@dataclass
class Gunicorn:
    config: ServerConfig
    port: int
    process: subprocess.Popen
    logfile: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_process(self.process)


def start_gunicorn(factory: str, config: ServerConfig, *, redis_url: str, directory: Path,
                   ready_path: str, timeout: float = 30.0, log_level: str = "INFO") -> Gunicorn:
    """Serve `factory` (e.g. "tests.bench.wsgi:inventory()") and wait until `ready_path` answers 200."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    logfile = directory / f"gunicorn-{port}.log"
    env = {**os.environ, "REDIS_URL": redis_url, "LOG_LEVEL": log_level,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
               "--workers", str(config.workers), "--threads", str(config.threads),
               "--bind", f"127.0.0.1:{port}", "--keep-alive", "30", "--backlog", "2048",
               "--log-level", "warning", "--error-logfile", "-", factory]
    with open(logfile, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Gunicorn(config, port, process, logfile)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{logfile.read_text()[-3000:]}")
        try:
            if requests.get(server.url + ready_path, timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer {ready_path} within {timeout}s:\n{logfile.read_text()[-3000:]}")
