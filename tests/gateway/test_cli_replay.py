"""`inventory-gateway replay [--verify]` against a real redis-server and a real 3-master cluster:
a second run reports what the first did, the rebuilt keys expire, events arriving while it
verifies raise no false alarm, and it says how much it wrote."""

from __future__ import annotations

import json
import threading

import pytest

from gateway.cli import main
from gateway.settings import Settings
from process_apis.inventory.adapters.keys import Keys
from process_apis.inventory.adapters.ledger import JournalPolicy, LedgerStore
from shared.redis import create_redis
from tests.support.inventory import event

POLICY = JournalPolicy(dedup_ttl_seconds=3600, journal_seconds=30 * 86400, journal_max=1000)
SKUS = ("MAT-1", "MAT-2", "MAT-3")
LOCATIONS = ("S1", "S2", "D1")


@pytest.fixture(
    params=[pytest.param("standalone", marks=pytest.mark.redis), pytest.param("cluster", marks=pytest.mark.cluster)]
)
def live(request, monkeypatch):
    """The live ledger on an emptied real Redis (standalone, then cluster), REDIS_URL pointing at it."""
    url = request.getfixturevalue("redis_url" if request.param == "standalone" else "cluster_url")
    monkeypatch.setenv("REDIS_URL", url)
    client = create_redis(Settings.from_env({"REDIS_URL": url}))
    ledger = LedgerStore(client, keys=Keys("inv"), policy=POLICY)
    ledger.apply(
        [
            event(f"r-{sku}-{loc}", "stock.received", sku=sku, location=loc, quantity=20, ms=n)
            for n, (sku, loc) in enumerate((sku, loc) for sku in SKUS for loc in LOCATIONS)
        ]
    )
    ledger.apply([event("sale-1", "stock.issued", quantity=3, ms=100, reason="sale")])
    request_ = {"res": "res-1", "ch": "web", "pending": False, "refs": ["res-1"]}
    line = {"qty": 4, "partial": False, "strategy": "priority", "fence": 0}
    line["cands"] = [{"loc": "S1", "ss_units": 0, "ss_pct": 0, "alloc": {}}]
    assert ledger.hold("MAT-2", {**request_, "lines": [line]})["ok"]
    yield ledger
    client.close()


def replay(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["replay", *argv])
    out, _ = capsys.readouterr()
    return code, json.loads(out.strip().splitlines()[-1])


def replay_keys(client) -> list[str]:
    return list(client.scan_iter(match="replay:*", count=1000))


def test_a_second_verify_of_the_same_log_finds_no_difference(live, capsys):
    first = replay(capsys, "--verify")
    second = replay(capsys, "--verify")

    assert first == (0, first[1]) and first[1]["differing_positions"] == []
    assert second[0] == 0, second
    assert second[1]["differing_positions"] == []
    assert (second[1]["skus"], second[1]["log_entries"]) == (first[1]["skus"], first[1]["log_entries"])


def test_every_rebuilt_key_expires(live, capsys, monkeypatch):
    monkeypatch.setenv("REPLAY_TTL_SECONDS", "600")
    assert replay(capsys, "--verify")[0] == 0

    keys = replay_keys(live.redis)
    assert keys
    ttls = {key: live.redis.ttl(key) for key in keys}
    assert all(0 < ttl <= 600 for ttl in ttls.values()), ttls


def test_it_says_how_many_keys_and_bytes_it_wrote(live, capsys):
    code, report = replay(capsys)

    assert code == 0
    assert report["keys_written"] == len(replay_keys(live.redis)) > 0
    assert report["bytes_written"] > 0


def test_events_ingested_while_it_verifies_raise_no_false_alarm(live, capsys):
    stop, posted = threading.Event(), []

    def ingest() -> None:
        n = 0
        while not stop.is_set():
            sku, loc = SKUS[n % len(SKUS)], LOCATIONS[n % len(LOCATIONS)]
            live.apply([event(f"flow-{n}", "stock.received", sku=sku, location=loc, quantity=1, ms=1000 + n)])
            posted.append(n)
            n += 1

    flow = threading.Thread(target=ingest, daemon=True)
    flow.start()
    try:
        results = [replay(capsys, "--verify") for _ in range(3)]
    finally:
        stop.set()
        flow.join(timeout=10)
    assert len(posted) > 10  # events did arrive while it verified
    assert [code for code, _ in results] == [0, 0, 0], [report["differing_positions"] for _, report in results]
