"""The availability change stream on a real redis-server: entries stay pending until acknowledged,
a new reader claims what its predecessor left, acknowledged entries are trimmed away, and entries
trimmed before anyone read them are noticed."""

from __future__ import annotations

import pytest

from gateway.settings import Settings
from process_apis.inventory.adapters.changes import GROUP, ChangeStream
from process_apis.inventory.adapters.keys import Keys
from shared.redis import create_redis


@pytest.fixture
def redis(redis_url):
    return create_redis(Settings(redis_url=redis_url))


def record(redis, stream: ChangeStream, changed: dict[str, int]) -> None:
    command, keys, args = stream.record_call(changed)
    redis.execute_command(command, *keys, *args)


def test_a_new_reader_claims_every_entry_its_predecessor_read_but_did_not_acknowledge(redis):
    stream = ChangeStream(redis, Keys())
    assert stream.join("first") == (True, [])  # a new group: what came before it was never read
    record(redis, stream, {"MAT-1": 100, "MAT-2": 200})
    record(redis, stream, {"MAT-1": 50})
    read = stream.read("first", count=10, block_ms=10)
    assert [change.skus for change in read] == [{"MAT-1": 100, "MAT-2": 200}, {"MAT-1": 50}]

    missed, claimed = stream.join("second")  # "first" died before acknowledging
    assert not missed
    assert [change.entry_id for change in claimed] == [change.entry_id for change in read]
    assert [consumer["name"] for consumer in redis.xinfo_consumers(stream.key, GROUP)] == ["second"]
    stream.acknowledge([change.entry_id for change in claimed])
    assert redis.xpending(stream.key, GROUP)["pending"] == 0
    assert stream.join("third") == (False, [])


def test_acknowledged_entries_are_trimmed_and_unread_ones_kept(redis):
    stream = ChangeStream(redis, Keys())
    stream.join("reader")
    for n in range(300):
        record(redis, stream, {f"MAT-{n}": n})
    read = stream.read("reader", count=250, block_ms=10)
    stream.acknowledge([change.entry_id for change in read])
    assert 50 <= redis.xlen(stream.key) < 300  # approximate trimming keeps whole nodes
    assert [change.skus for change in stream.read("reader", count=100, block_ms=10)] == [
        {f"MAT-{n}": n} for n in range(250, 300)
    ]


@pytest.mark.parametrize("read_first", [0, 150], ids=["nothing-read", "some-read"])
def test_entries_trimmed_before_they_were_read_are_noticed(redis, read_first):
    stream = ChangeStream(redis, Keys(), max_entries=10)
    stream.join("reader")
    for n in range(read_first):
        record(redis, stream, {"MAT-1": n})
    stream.acknowledge([change.entry_id for change in stream.read("reader", count=1000, block_ms=10)])
    assert stream.join("reader") == (False, [])
    for n in range(500):  # nobody reads: the stream's bound of last resort trims unread entries
        record(redis, stream, {"MAT-2": n})
    missed, _ = stream.join("reader")
    assert missed
