"""POST /inventory/v1/positions/{sku}/{location}/watermarks/reset over HTTP against a real redis-server:
a position a count from the future froze (accepted before the clock-skew check existed) applies
events again after the reset, the reset is audited in the log, and a replay of the log still
rebuilds the live positions."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from process_apis.inventory.adapters.replay import replay
from process_apis.inventory.bootstrap import bootstrap
from process_apis.inventory.domain.events import InventoryEvent
from shared.auth import CredentialStore
from tests.process_apis.inventory.support import V1, assert_problem, position, send
from tests.support.auth import keyed_client
from tests.support.inventory import event, event_json

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
RESET = f"{V1}/positions/MAT-1/S1/watermarks/reset"


def _accepted_before_the_check(app, *events: InventoryEvent) -> None:
    """Events ingest now refuses, applied through the ledger as an older gateway applied them."""
    app.extensions["inventory"].ledger.apply(list(events))


def _from_the_future(event_id: str, type_: str, quantity: int) -> InventoryEvent:
    return replace(event(event_id, type_, quantity=quantity), occurred_at=FAR_FUTURE)


@pytest.fixture
def frozen(app, network):
    """S1 holds 10 of MAT-1, then a count of 500 dated 9999-12-31 froze it."""
    now = datetime.now(UTC)
    send(network, event_json("count", "stock.counted", quantity=10, occurred_at=now - timedelta(hours=1)))
    _accepted_before_the_check(app, _from_the_future("count-9999", "stock.counted", 500))
    later = send(network, event_json("sale-1", "stock.issued", quantity=1, occurred_at=now, reason="sale"))
    assert later["stale"] == 1 and position(network)["on_hand"] == 500
    return network


def test_after_a_reset_the_next_count_and_deltas_apply(frozen):
    answer = frozen.post(RESET, json={"reason": "count dated 9999 accepted before the skew check"})

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    on_hand = next(mark for mark in body["watermarks"] if mark["field"] == "on_hand")
    assert (on_hand["before"], on_hand["set_by"], on_hand["after"]) == (FAR_FUTURE.isoformat(), "count-9999", None)
    now = datetime.now(UTC)
    counted = send(frozen, event_json("count-now", "stock.counted", quantity=9, occurred_at=now))
    sold = send(frozen, event_json("sale-2", "stock.issued", quantity=2, occurred_at=now + timedelta(seconds=1)))
    assert (counted["applied"], sold["applied"]) == (1, 1)
    assert position(frozen)["on_hand"] == 7


def test_a_reset_drops_deltas_from_the_future_so_the_next_count_is_the_truth(app, network):
    now = datetime.now(UTC)
    send(network, event_json("count", "stock.counted", quantity=10, occurred_at=now - timedelta(hours=1)))
    _accepted_before_the_check(app, _from_the_future("receipt-9999", "stock.received", 40))

    assert (
        network.post(RESET, json={"fields": ["on_hand"], "reason": "receipt dated 9999"}).get_json()[
            "journal_entries_dropped"
        ]
        == 1
    )
    send(network, event_json("count-now", "stock.counted", quantity=12, occurred_at=now))
    assert position(network)["on_hand"] == 12  # not 12 + the 40 "received" in 9999


def test_a_reset_brings_back_a_journal_horizon_deltas_from_the_future_pushed_past_every_count(app, network):
    now = datetime.now(UTC)
    send(network, event_json("count", "stock.counted", quantity=10, occurred_at=now - timedelta(hours=1)))
    _accepted_before_the_check(
        app,
        replace(_from_the_future("receipt-9999-01", "stock.received", 1), occurred_at=FAR_FUTURE - timedelta(days=300)),
    )
    _accepted_before_the_check(app, _from_the_future("receipt-9999-12", "stock.received", 1))  # trims the first
    too_old = send(network, event_json("count-1", "stock.counted", quantity=12, occurred_at=now))
    assert too_old["not_applied"][0]["reason"] == "snapshot_before_journal_horizon"

    reset = network.post(RESET, json={"reason": "receipts dated 9999"}).get_json()

    assert reset["horizon"]["before"] == (FAR_FUTURE - timedelta(days=300)).isoformat()
    assert reset["horizon"]["after"] == reset["reset_at"]
    counted = send(
        network,
        event_json("count-2", "stock.counted", quantity=12, occurred_at=datetime.now(UTC) + timedelta(seconds=1)),
    )
    assert counted["applied"] == 1 and position(network)["on_hand"] == 12
    live = app.extensions["inventory"]
    rebuilt = bootstrap(live.settings, live.ledger.redis, prefix="replay")
    replay(live.ledger, rebuilt.ledger)
    assert rebuilt.ledger.raw_position("MAT-1", "S1") == live.ledger.raw_position("MAT-1", "S1")


def test_a_reset_is_audited_with_who_which_position_and_the_watermarks(app, frozen, caplog):
    _, api_key = CredentialStore(app.extensions["redis"], cache_seconds=0).create(
        "ops-1", kind="operator", scopes=["inventory:admin"]
    )
    operator = keyed_client(app, api_key)
    with caplog.at_level(logging.WARNING, logger="process_apis.inventory.service.positions"):
        answer = operator.post(RESET, json={"fields": ["on_hand", "blocked"], "reason": "frozen by a count from 9999"})

    assert answer.status_code == 200, answer.get_json()
    [record] = [r for r in caplog.records if getattr(r, "audit", None) == "watermark_reset"]
    assert (record.actor, record.sku, record.location, record.reason) == (
        "ops-1",
        "MAT-1",
        "S1",
        "frozen by a count from 9999",
    )
    assert [(m["field"], m["before"], m["after"]) for m in record.watermarks] == [
        ("on_hand", FAR_FUTURE.isoformat(), None),
        ("blocked", None, None),
    ]
    refused = keyed_client(
        app, CredentialStore(app.extensions["redis"]).create("ops-2", kind="operator", scopes=["inventory:read"])[1]
    ).post(RESET, json={"reason": "x"})
    assert_problem(refused, 403)


def test_replay_after_a_reset_rebuilds_the_live_positions(app, frozen, redis_url):
    frozen.post(RESET, json={"reason": "frozen by a count from 9999"})
    now = datetime.now(UTC)
    send(frozen, event_json("count-now", "stock.counted", quantity=9, occurred_at=now))
    send(frozen, event_json("sale-2", "stock.issued", quantity=2, occurred_at=now + timedelta(seconds=1)))
    live = app.extensions["inventory"]
    rebuilt = bootstrap(live.settings, live.ledger.redis, prefix="replay")

    replay(live.ledger, rebuilt.ledger)

    assert rebuilt.ledger.raw_position("MAT-1", "S1") == live.ledger.raw_position("MAT-1", "S1")
    assert live.ledger.raw_position("MAT-1", "S1")["on_hand"] == "7"


def test_a_reset_with_the_same_idempotency_key_is_answered_once(frozen):
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = frozen.post(RESET, json={"reason": "frozen"}, headers=key)
    again = frozen.post(RESET, json={"reason": "frozen"}, headers=key)

    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()


def test_a_reset_of_no_position_or_a_bad_body_is_a_problem(frozen):
    assert_problem(frozen.post(f"{V1}/positions/MAT-1/S2/watermarks/reset", json={"reason": "x"}), 404)
    assert_problem(frozen.post(f"{V1}/positions/MAT%0A1/S1/watermarks/reset", json={"reason": "x"}), 422)
    assert_problem(frozen.post(RESET, json={"fields": ["reserved"], "reason": "x"}), 422)
    assert_problem(frozen.post(RESET, json={}), 422)
