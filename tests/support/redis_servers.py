"""Throwaway redis-server processes (standalone, or a 3-master cluster) on free ports.

Used by the pytest fixtures and the benchmark. Servers bind 127.0.0.1, keep no data on disk
and never use port 6379, so a developer's own Redis is left alone.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.processes import stop_process

REDIS_SERVER = "redis-server"
REDIS_CLI = "redis-cli"
RESERVED_PORTS = frozenset({6379})
CLUSTER_BUS_OFFSET = 10000
START_ATTEMPTS = 3


def missing_binaries() -> list[str]:
    """Names of the Redis binaries not found on PATH."""
    return [name for name in (REDIS_SERVER, REDIS_CLI) if shutil.which(name) is None]


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, with_cluster_bus: bool = False) -> int:
    """A port free on 127.0.0.1 now (and, for cluster nodes, its bus port + 10000 too)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port in RESERVED_PORTS:
            continue
        if not with_cluster_bus:
            return port
        bus = port + CLUSTER_BUS_OFFSET
        if bus <= 65535 and bus not in RESERVED_PORTS and _bindable(bus):
            return port


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen
    logfile: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True, socket_timeout=5)

    def cluster_info(self) -> dict[str, str]:
        """CLUSTER INFO of this node as a dict of strings."""
        with self.client() as client:
            info = client.execute_command("CLUSTER", "INFO")
        if isinstance(info, str):
            return dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        return {key: str(value) for key, value in info.items()}

    def stop(self) -> None:
        stop_process(self.process, timeout=10)


def start_redis_server(
    directory: Path, *, extra_args: tuple[str, ...] = (), cluster_node: bool = False, timeout: float = 10.0
) -> RedisServer:
    """Start redis-server with data dir `directory` and wait until it answers PING."""
    directory.mkdir(parents=True, exist_ok=True)
    last_error = ""
    # The port is only known free when picked; if another process grabs it first, pick again.
    for _ in range(START_ATTEMPTS):
        port = free_port(with_cluster_bus=cluster_node)
        logfile = directory / f"redis-{port}.log"
        command = [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--logfile",
            str(logfile),
            *extra_args,
        ]
        if cluster_node:
            command += [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(directory / f"nodes-{port}.conf"),
                "--cluster-node-timeout",
                "5000",
            ]
        server = RedisServer(
            port, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), logfile
        )
        try:
            _wait_for_ping(server, timeout)
            return server
        except RuntimeError as error:
            server.stop()
            last_error = str(error)
    raise RuntimeError(f"could not start {REDIS_SERVER}: {last_error}")


def _wait_for_ping(server: RedisServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    client = server.client()
    try:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                stderr = server.process.stderr.read().decode(errors="replace") if server.process.stderr else ""
                log = server.logfile.read_text(errors="replace") if server.logfile.exists() else ""
                raise RuntimeError(f"exited with {server.process.returncode}: {stderr}{log[-2000:]}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"no PING answer on port {server.port} within {timeout}s")
    finally:
        client.close()


@dataclass
class RedisClusterNodes:
    nodes: list[RedisServer] = field(default_factory=list)

    @property
    def url(self) -> str:
        """A seed-node URL `shared.redis.create_redis` connects to as a cluster."""
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def flush(self) -> None:
        for node in self.nodes:
            with node.client() as client:
                client.flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_redis_cluster(directory: Path, *, masters: int = 3, timeout: float = 30.0) -> RedisClusterNodes:
    """Start `masters` cluster-enabled nodes, join them with all 16384 slots, wait for cluster_state:ok."""
    cluster = RedisClusterNodes()
    try:
        for _ in range(masters):
            cluster.nodes.append(start_redis_server(directory, cluster_node=True))
        addresses = [f"127.0.0.1:{node.port}" for node in cluster.nodes]
        subprocess.run(
            [REDIS_CLI, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        _wait_for_cluster_ok(cluster, timeout)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait_for_cluster_ok(cluster: RedisClusterNodes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_cluster_ready(node, len(cluster.nodes)) for node in cluster.nodes):
            return
        time.sleep(0.1)
    raise RuntimeError(f"cluster did not reach cluster_state:ok within {timeout}s")


def _cluster_ready(node: RedisServer, expected_nodes: int) -> bool:
    info = node.cluster_info()
    return (
        info.get("cluster_state") == "ok"
        and info.get("cluster_known_nodes") == str(expected_nodes)
        and info.get("cluster_slots_ok") == "16384"
    )
