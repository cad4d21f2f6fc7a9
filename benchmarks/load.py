"""Small load-generation helpers: keep-alive HTTP connections driven by threads."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

#: Headers every bench request sends: the API key of the credential the bench made (see use_api_key).
DEFAULT_HEADERS: dict[str, str] = {}


def use_api_key(api_key: str) -> None:
    """Send `api_key` with every request of this bench run (Connection, wrk and the Python generator)."""
    DEFAULT_HEADERS["Authorization"] = f"Bearer {api_key}"


class Connection:
    """One keep-alive HTTP/1.1 connection (http.client: far less client CPU than requests)."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        all_headers = {**DEFAULT_HEADERS, **(headers or {})}
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=all_headers)
                response = self.conn.getresponse()
                data = response.read()
                return response.status, data, response
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # the server closed an idle keep-alive connection: reconnect once
                self.reconnect()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def json(self, method: str, path: str, payload=None, headers=None) -> tuple[int, object]:
        body = json.dumps(payload).encode() if payload is not None else None
        status, data, _ = self.request(method, path, body, headers)
        return status, (json.loads(data) if data else None)

    def close(self) -> None:
        self.conn.close()


def run_threads(count: int, work: Callable[[int], object]) -> tuple[float, list]:
    """Run work(i) in `count` threads started together; (wall seconds, results)."""
    results: list = [None] * count
    errors: list[BaseException] = []
    barrier = threading.Barrier(count + 1)

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors.append(error)

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed, results


def split(items: list, parts: int) -> list[list]:
    return [items[i::parts] for i in range(parts)]


def chunks(items: Iterable, size: int) -> list[list]:
    items = list(items)
    return [items[i : i + size] for i in range(0, len(items), size)]
