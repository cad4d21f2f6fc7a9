"""Crash test: `inventory-gateway worker` publishing availability to a receiver speaking the
Salesforce system API's contract is killed (SIGKILL) while a batch is in flight and events keep
flowing; a new worker takes over. Afterwards every key's last published value is the process
API's availability of it, and no key is missing."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from gateway.settings import Settings
from process_apis.inventory.adapters.changes import GROUP
from process_apis.inventory.app import create_app
from shared.redis import create_redis
from tests.support.auth import service_client
from tests.support.availability_receiver import AvailabilityReceiver, availability_of, wait_until
from tests.support.processes import serving, start_publisher, stop_process

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
V1 = "/inventory/v1"
SKUS = tuple(f"MAT-{n}" for n in range(10))
CHANNELS = {"S1": ("web", "store"), "S2": ("web",), "D1": ("web",)}
KEYS = [
    (sku, location, None, channel) for sku in SKUS for location, channels in CHANNELS.items() for channel in channels
]
KEYS += [(sku, None, "WEB-SHIP", "web") for sku in SKUS]
SETTLE_SECONDS = 40


@pytest.fixture
def process_api(redis_url):
    """The process API on the test Redis, with three locations, a web group, safety stock and stock everywhere."""
    app = create_app(Settings.from_env({"REDIS_URL": redis_url, "LOG_LEVEL": "WARNING"}))
    api = service_client(app)
    for location, channels in CHANNELS.items():
        assert (
            api.put(f"{V1}/locations/{location}", json={"type": "store", "channels": list(channels)}).status_code == 201
        )
    assert (
        api.put(f"{V1}/location-groups/WEB-SHIP", json={"members": list(CHANNELS), "channel": "web"}).status_code == 201
    )
    assert api.put(f"{V1}/rules", json={"safety_stock": [{"units": 1}]}, headers={"If-Match": "*"}).status_code == 200
    counts = [
        {
            "event_id": f"count:{sku}:{loc}",
            "type": "stock.counted",
            "sku": sku,
            "location": loc,
            "quantity": 20,
            "occurred_at": "2026-01-01T00:00:00Z",
            "source": "sap",
        }
        for sku in SKUS
        for loc in CHANNELS
    ]
    assert api.post(f"{V1}/events", json={"events": counts}).get_json()["applied"] == len(counts)
    return app


class EventFlow:
    """Receipts and issues posted to the process API in small batches until stopped."""

    def __init__(self, app) -> None:
        self.app, self.stopping, self.sent, self.failures = app, threading.Event(), 0, []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        api, rnd = service_client(self.app), random.Random(7)
        while not self.stopping.is_set():
            events = [
                {
                    "event_id": f"flow:{self.sent}:{n}",
                    "type": rnd.choice(("stock.received", "stock.issued")),
                    "sku": rnd.choice(SKUS),
                    "location": rnd.choice(tuple(CHANNELS)),
                    "quantity": rnd.randint(1, 3),
                    "occurred_at": "2026-01-02T00:00:00Z",
                    "source": "sap",
                }
                for n in range(5)
            ]
            answer = api.post(f"{V1}/events", json={"events": events}).get_json()
            if answer.get("applied") != len(events):
                self.failures.append(answer)
            self.sent += 1
            time.sleep(0.01)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def out_of_step(receiver, api) -> dict:
    """Keys whose last published value is not the process API's availability: {key: (published, actual)}."""

    def get(params: dict) -> dict:
        return api.get(f"{V1}/availability", query_string=params).get_json()

    last = receiver.last_values()
    actual = {key: availability_of(get, key) for key in KEYS}
    return {key: (last.get(key), value) for key, value in actual.items() if last.get(key) != value}


@pytest.mark.slow
def test_a_publisher_killed_mid_stream_and_restarted_loses_nothing(redis_url, process_api, tmp_path):
    redis = create_redis(Settings(redis_url=redis_url))
    stream = process_api.extensions["inventory"].changes.key
    receiver = AvailabilityReceiver()
    receiver.delay_seconds = 0.2  # a batch takes a while, so the kill finds one in flight
    logfile = tmp_path / "worker.log"
    with serving(receiver.app) as receiver_url:
        worker = start_publisher(redis_url, receiver_url, logfile)
        flow = EventFlow(process_api)
        try:
            assert wait_until(lambda: receiver.outcome_count() >= len(KEYS) and flow.sent >= 20, timeout=30), (
                logfile.read_text()
            )
            assert wait_until(lambda: receiver.in_flight > 0, timeout=10)
            worker.kill()  # SIGKILL: no clean-up, the lease is left to lapse
            worker.wait(timeout=10)
            left_pending = redis.xpending(stream, GROUP)["pending"]
            assert left_pending > 0  # the batch in flight was never acknowledged

            sent_at_kill = flow.sent
            assert wait_until(lambda: flow.sent >= sent_at_kill + 20, timeout=10)
            worker = start_publisher(redis_url, receiver_url, logfile)
            assert wait_until(lambda: flow.sent >= sent_at_kill + 40, timeout=10)
        finally:
            flow.stop()
        try:
            assert not flow.failures
            api = service_client(process_api)
            assert wait_until(lambda: not out_of_step(receiver, api), timeout=SETTLE_SECONDS), out_of_step(
                receiver, api
            )
            assert wait_until(lambda: redis.xpending(stream, GROUP)["pending"] == 0, timeout=5)
        finally:
            stop_process(worker)
    log = logfile.read_text()
    assert log.count("availability publisher active") == 2  # the first worker, then its successor
    assert "trimmed before being read" not in log and "publishing failed" not in log
    assert worker.returncode == 0  # SIGTERM stops the second one cleanly
