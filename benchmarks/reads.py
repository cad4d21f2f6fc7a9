"""HTTP GET load with wrk (preferred) or, without it, a Python keep-alive client."""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

from .load import DEFAULT_HEADERS, Connection

WRK = "wrk"


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def ensure_wrk() -> str | None:
    """Path of wrk; installed with apt-get when missing and running as root. None if unavailable."""
    found = shutil.which(WRK)
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for steps in (
        [["apt-get", "install", "-y", "-q", "wrk"]],
        [["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]],
    ):
        try:
            for step in steps:
                subprocess.run(step, check=True, env=env, capture_output=True, timeout=240)
        except (subprocess.SubprocessError, OSError):
            continue
        if shutil.which(WRK):
            break
    return shutil.which(WRK)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(output: str, percentile: str) -> float | None:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def wrk(
    url: str, *, seconds: float, connections: int, threads: int = 1, headers: dict[str, str] | None = None
) -> LoadResult:
    """`headers` default to the bench's DEFAULT_HEADERS (its service key)."""
    headers = [
        argument for name, value in (headers or DEFAULT_HEADERS).items() for argument in ("-H", f"{name}: {value}")
    ]
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", *headers, url]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(s|ms|m)", output)
    if not total:
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    duration = float(total.group(2)) * {"s": 1.0, "ms": 0.001, "m": 60.0}[total.group(3)]
    errors = 0
    if bad := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(bad.group(1))
    if sock := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in sock.groups())
    return LoadResult(int(total.group(1)), duration, errors, _latency(output, "50"), _latency(output, "99"))


def _python_worker(url: str, seconds: float, connections: int, queue) -> None:
    stop = time.monotonic() + seconds
    counts = [0, 0]
    lock = threading.Lock()
    split_at = url.index("/", len("http://"))
    base, path = url[:split_at], url[split_at:]

    def loop() -> None:
        connection = Connection(base, timeout=10)
        done = bad = 0
        while time.monotonic() < stop:
            status, _, _ = connection.request("GET", path)
            done += 1
            bad += status != 200
        with lock:
            counts[0] += done
            counts[1] += bad

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(tuple(counts))


def python_load(url: str, *, seconds: float, connections: int, processes: int = 2) -> LoadResult:
    """Fallback generator: `processes` processes × keep-alive connections in threads."""
    queue = multiprocessing.get_context("fork").Queue()
    per = max(1, connections // processes)
    procs = [
        multiprocessing.get_context("fork").Process(target=_python_worker, args=(url, seconds, per, queue))
        for _ in range(processes)
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    return LoadResult(sum(r[0] for r in results), time.perf_counter() - started, sum(r[1] for r in results))


class Generator:
    def __init__(self, connections: int) -> None:
        self.connections = connections
        self.wrk = ensure_wrk()

    def describe(self) -> str:
        if self.wrk:
            return f"wrk -t1 -c{self.connections} (keep-alive)"
        return (
            f"Python keep-alive client, 2 processes x {self.connections // 2} connections "
            "(wrk not found: apt-get install wrk for lighter, truer numbers)"
        )

    def run(self, url: str, seconds: float) -> LoadResult:
        if self.wrk:
            return wrk(url, seconds=seconds, connections=self.connections)
        return python_load(url, seconds=seconds, connections=self.connections)
