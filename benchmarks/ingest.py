"""Event ingest: 1000-event batches over HTTP vs the same Lua script pipelined raw."""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis as redis_lib

from gateway.settings import Settings
from process_apis.inventory.adapters.keys import Keys
from process_apis.inventory.adapters.ledger import JournalPolicy, _script_payload
from process_apis.inventory.adapters.scripts import Scripts
from process_apis.inventory.domain.events import event_from_record

from .data import BATCH, EventFactory
from .load import Connection, run_threads, split

EVENTS_PATH = "/inventory/v1/events"


@dataclass
class IngestResult:
    events: int
    seconds: float
    applied: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def http_ingest(base_url: str, bodies: list[bytes], clients: int, *, keep_alive: bool = False) -> IngestResult:
    """POST the batches from `clients` threads. Without keep-alive each batch opens its own
    connection, so the workers share the batches the way a load balancer would spread them;
    kept-alive connections stay with whichever worker accepted them (often all on one)."""

    def work(i: int) -> int:
        connection = Connection(base_url)
        applied = 0
        for body in shares[i]:
            if not keep_alive:
                connection.reconnect()
            status, data, _ = connection.request("POST", EVENTS_PATH, body)
            if status != 200:
                raise RuntimeError(f"POST events answered {status}: {data[:500]!r}")
            outcome = json.loads(data)
            applied += outcome["applied"]
        connection.close()
        return applied

    shares = split(bodies, clients)
    seconds, applied = run_threads(clients, work)
    return IngestResult(len(bodies) * BATCH, seconds, sum(applied))


def prebuilt_batches(bodies: list[bytes], keys: Keys) -> list[list[tuple[str, str]]]:
    """Each batch as the (log key, base, payload) per SKU LedgerStore.apply would send."""
    batches = []
    for body in bodies:
        events = [event_from_record(item) for item in json.loads(body)["events"]]
        by_sku: dict[str, list] = {}
        for event in events:
            by_sku.setdefault(event.sku, []).append(event)
        batches.append([(sku, json.dumps([_script_payload(e) for e in group])) for sku, group in by_sku.items()])
    return batches


def raw_ingest(redis_url: str, bodies: list[bytes], clients: int, settings: Settings) -> IngestResult:
    """The same registered apply_events script, through a redis-py pipeline, no HTTP, no validation."""
    keys = Keys("inv")
    config = JournalPolicy(
        settings.dedup_ttl_seconds, settings.delta_journal_seconds, settings.delta_journal_max
    ).as_json()
    batches = prebuilt_batches(bodies, keys)

    def work(i: int) -> int:
        client = redis_lib.Redis.from_url(redis_url, decode_responses=True)
        script = Scripts(client)["apply_events"]
        applied = 0
        for batch in shares[i]:
            pipe = client.pipeline(transaction=False)
            pipe.sadd(keys.skus, *(sku for sku, _ in batch))
            for sku, payload in batch:
                script(keys=[keys.log(sku)], args=[keys.sku_base(sku), config, payload], client=pipe)
            for reply in pipe.execute()[1:]:
                applied += sum(1 for item in json.loads(reply) if item["o"] == "applied")
        client.close()
        return applied

    shares = split(batches, clients)
    seconds, applied = run_threads(clients, work)
    return IngestResult(len(bodies) * BATCH, seconds, sum(applied))


def make_bodies(seed: int, tag: str, batches: int, start=None) -> tuple[list[bytes], EventFactory]:
    factory = EventFactory(seed, tag, start)
    return factory.bodies(batches), factory
