"""`inventory-gateway positions reset-watermark` against a real redis-server: a position a count from
the future froze takes counts again, the reset is audited on stderr as done by "cli", and a replay
of the log still rebuilds the live position."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gateway.cli import main
from gateway.settings import Settings
from process_apis.inventory.adapters.replay import replay
from process_apis.inventory.bootstrap import bootstrap
from process_apis.inventory.domain.locations import Location
from process_apis.inventory.service.ingest import ingest
from shared.redis import create_redis
from tests.support.inventory import event, event_json

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


@pytest.fixture
def frozen(redis_url, monkeypatch):
    """MAT-1 at S1: counted 10 an hour ago, then a count of 500 dated 9999-12-31 (accepted through the
    ledger, as before the clock-skew check) froze it."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    settings = Settings.from_env({"REDIS_URL": redis_url})
    inventory = bootstrap(settings, create_redis(settings))
    inventory.catalogue.put_location(Location(id="S1", type="store"))
    now = datetime.now(UTC)
    ingest(inventory, [event_json("count", "stock.counted", quantity=10, occurred_at=now - timedelta(hours=1))])
    inventory.ledger.apply([replace(event("count-9999", "stock.counted", quantity=500), occurred_at=FAR_FUTURE)])
    assert ingest(inventory, [event_json("sale", "stock.issued", quantity=1, occurred_at=now)])["stale"] == 1
    return inventory


def test_reset_watermark_lets_the_next_count_apply_and_is_audited(frozen, capsys):
    code = main(["positions", "reset-watermark", "--sku", "MAT-1", "--location", "S1", "--reason", "count from 9999"])
    out, err = capsys.readouterr()

    assert code == 0, err
    result = json.loads(out)
    assert [(m["field"], m["before"], m["after"]) for m in result["watermarks"]][0] == (
        "on_hand",
        FAR_FUTURE.isoformat(),
        None,
    )
    [audit] = [json.loads(line) for line in err.splitlines() if '"watermark_reset"' in line]
    assert (audit["actor"], audit["sku"], audit["location"], audit["reason"]) == (
        "cli",
        "MAT-1",
        "S1",
        "count from 9999",
    )
    assert audit["watermarks"][0] == {
        "field": "on_hand",
        "before": FAR_FUTURE.isoformat(),
        "set_by": "count-9999",
        "after": None,
    }
    now = datetime.now(UTC)
    assert ingest(frozen, [event_json("count-now", "stock.counted", quantity=9, occurred_at=now)])["applied"] == 1
    assert (
        ingest(frozen, [event_json("sale-2", "stock.issued", quantity=2, occurred_at=now + timedelta(seconds=1))])[
            "applied"
        ]
        == 1
    )
    rebuilt = bootstrap(frozen.settings, frozen.ledger.redis, prefix="replay")
    replay(frozen.ledger, rebuilt.ledger)
    assert rebuilt.ledger.raw_position("MAT-1", "S1") == frozen.ledger.raw_position("MAT-1", "S1")
    assert frozen.ledger.positions([("MAT-1", "S1")])[0].on_hand == 7


def test_reset_watermark_of_no_position_or_a_bad_id_fails(frozen, capsys):
    assert main(["positions", "reset-watermark", "--sku", "MAT-2", "--location", "S1", "--reason", "x"]) == 1
    assert "no position of MAT-2 at S1" in capsys.readouterr().err
    assert main(["positions", "reset-watermark", "--sku", "MAT-1\n", "--location", "S1", "--reason", "x"]) == 2
