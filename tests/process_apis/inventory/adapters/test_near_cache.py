"""The near cache against a real redis-server: hits read nothing again (one PING catches up with
Redis), and every change made by any client is seen by the next read, also when the change races a
miss, its invalidation comes late or the subscriber dies."""

from __future__ import annotations

import pytest
import redis

from gateway.settings import Settings
from process_apis.inventory.adapters.near_cache import DirectReads, NearCache, create_reads
from process_apis.inventory.app import create_app
from shared.redis import create_redis
from tests.support.auth import service_client
from tests.support.availability_receiver import wait_until
from tests.support.inventory import event_json


@pytest.fixture
def writer(redis_url):
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        yield client


@pytest.fixture
def cache(redis_url):
    return NearCache(redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2), max_entries=100)


def calls(client: redis.Redis, command: str) -> int:
    return client.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0)


def test_a_repeated_read_is_answered_without_asking_redis(cache, writer):
    writer.hset("pos:a", mapping={"on_hand": 5})
    writer.set("version", "3")
    commands = [("GET", "version"), ("HGETALL", "pos:a"), ("HGET", "pos:a", "on_hand"), ("SMEMBERS", "nothing")]

    first = cache.read(commands)
    asked = calls(writer, "hgetall")
    second = cache.read(commands)

    assert first == second == ["3", {"on_hand": "5"}, "5", set()]
    assert calls(writer, "hgetall") == asked


def test_every_write_by_another_client_is_seen_by_the_next_read(cache, writer):
    writer.hset("pos:a", "on_hand", 0)
    for units in range(1, 201):
        writer.hset("pos:a", "on_hand", units)
        assert cache.read([("HGETALL", "pos:a")]) == [{"on_hand": str(units)}]


def test_a_write_is_seen_even_when_its_invalidation_reaches_the_subscriber_after_the_writers_reply(
    cache, writer, monkeypatch
):
    # Redis may send the writer its reply before the subscriber its invalidation, and a busy host may
    # deschedule it in between (the web ETag test read a stale value about once in 100 under load).
    # Here the subscriber's socket says nothing has arrived yet, as it would in that moment.
    writer.hset("pos:a", "on_hand", 1)
    assert cache.read([("HGETALL", "pos:a")]) == [{"on_hand": "1"}]
    writer.hset("pos:a", "on_hand", 2)
    monkeypatch.setattr(cache._subscriber, "can_read", lambda timeout=0: False)
    assert cache.read([("HGETALL", "pos:a")]) == [{"on_hand": "2"}]


def test_a_key_read_while_missing_is_seen_once_created(cache, writer):
    assert cache.read([("HGETALL", "pos:new"), ("GET", "v")]) == [{}, None]
    writer.hset("pos:new", "on_hand", 4)
    writer.set("v", "1")
    assert cache.read([("HGETALL", "pos:new"), ("GET", "v")]) == [{"on_hand": "4"}, "1"]


def test_a_flush_drops_everything_cached(cache, writer):
    writer.set("v", "1")
    assert cache.read([("GET", "v")]) == ["1"]
    writer.flushall()
    assert cache.read([("GET", "v")]) == [None]


def test_a_reply_whose_key_changed_while_in_flight_is_not_kept(cache, writer, monkeypatch):
    writer.set("v", "old")
    fetch = cache._fetch

    def fetch_then_overwrite(commands):
        replies = fetch(commands)  # Redis now tracks the key for us ...
        writer.set("v", "new")  # ... so this write's invalidation is on its way
        assert wait_until(lambda: cache._drain() and "v" in cache._dirty, timeout=5)
        return replies

    monkeypatch.setattr(cache, "_fetch", fetch_then_overwrite)
    assert cache.read([("GET", "v")]) == ["old"]  # the reply as read, but not kept
    monkeypatch.undo()

    assert cache.read([("GET", "v")]) == ["new"]


def test_when_the_subscriber_dies_reads_go_to_redis_until_it_is_back(cache, writer):
    writer.set("v", "1")
    assert cache.read([("GET", "v")]) == ["1"]

    writer.client_kill_filter(_type="pubsub")
    writer.set("v", "2")  # its invalidation has nowhere to go
    assert cache.read([("GET", "v")]) == ["2"]

    assert wait_until(lambda: cache._subscriber is not None, timeout=5)
    assert cache.read([("GET", "v")]) == ["2"]
    asked = calls(writer, "get")
    assert cache.read([("GET", "v")]) == ["2"]
    assert calls(writer, "get") == asked  # cached again
    writer.set("v", "3")
    assert cache.read([("GET", "v")]) == ["3"]


def test_entries_are_bounded_oldest_out_first(redis_url, writer):
    cache = NearCache(redis.Redis.from_url(redis_url, decode_responses=True), max_entries=3)
    for i in range(10):
        writer.set(f"k{i}", i)
        assert cache.read([("GET", f"k{i}")]) == [str(i)]

    assert list(cache._entries) == ["k7", "k8", "k9"]


def test_a_standalone_redis_gets_a_near_cache_and_other_stores_read_directly(redis_url, settings_for):
    standalone = redis.Redis.from_url(redis_url, decode_responses=True)

    assert isinstance(create_reads(settings_for(redis_url), standalone), NearCache)
    assert isinstance(create_reads(settings_for(redis_url, near_cache_entries=0), standalone), DirectReads)
    assert isinstance(create_reads(settings_for(None), object()), DirectReads)


def test_availability_served_by_one_process_follows_every_change_made_through_another(redis_url):
    """Two process APIs on one Redis, as two gunicorn workers: one answers reads from its near
    cache, the other takes events, a reservation and a rule change; every read right after sees it."""

    def process_api():
        settings = Settings(redis_url=redis_url)
        app = create_app(settings, create_redis(settings))
        return app, service_client(app)

    reader_app, reader = process_api()
    _, writer = process_api()
    assert writer.put("/inventory/v1/locations/S1", json={"type": "store", "channels": ["web"]}).status_code == 201

    def available() -> int:
        response = reader.get("/inventory/v1/availability?sku=SKU-1&location=S1&channel=web")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["positions"][0]["available_to_sell"]

    writer.post("/inventory/v1/events", json={"events": [event_json("e1", "stock.counted", sku="SKU-1", quantity=10)]})
    assert available() == 10
    assert isinstance(reader_app.extensions["inventory"].ledger.near, NearCache)
    for n in range(2, 12):
        writer.post("/inventory/v1/events", json={"events": [event_json(f"e{n}", "stock.received", sku="SKU-1", ms=n)]})
        assert available() == 10 + n - 1
    reservation = writer.post(
        "/inventory/v1/reservations",
        headers={"Idempotency-Key": "k1"},
        json={
            "channel": "web",
            "external_ref": "order-1",
            "lines": [{"sku": "SKU-1", "location": "S1", "quantity": 5}],
        },
    )
    assert reservation.status_code == 201, reservation.get_json()
    assert available() == 15
    rules = writer.get("/inventory/v1/rules")
    changed = writer.put(
        "/inventory/v1/rules", headers={"If-Match": rules.headers["ETag"]}, json={"safety_stock": [{"units": 3}]}
    )
    assert changed.status_code == 200, changed.get_json()
    assert available() == 12


def test_a_reply_read_without_tracking_is_not_kept(cache, writer, monkeypatch):
    writer.set("v", "1")
    cache.read([("GET", "other")])  # the subscriber is up

    def no_tracked_connection():
        raise redis.ConnectionError("refused")

    monkeypatch.setattr(cache, "_checkout", no_tracked_connection)
    assert cache.read([("GET", "v")]) == ["1"]  # read straight from Redis, which will not announce changes
    monkeypatch.undo()
    writer.set("v", "2")

    assert cache.read([("GET", "v")]) == ["2"]
