"""The effect table: which stock field each canonical event moves, and the event's stored form."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from process_apis.inventory.domain.events import (
    EventType,
    FieldChange,
    InventoryEvent,
    event_from_record,
    event_record,
    field_changes,
    snapshot_counts,
)
from tests.support.inventory import T0, event

Q = 4
EFFECTS = [
    # (type, extra event fields, expected (location, field, amount) changes)
    ("stock.received", {}, [("S1", "on_hand", +Q)]),
    ("stock.received", {"stock_type": "unrestricted"}, [("S1", "on_hand", +Q)]),
    ("stock.received", {"stock_type": "quality_inspection"}, [("S1", "quality_inspection", +Q)]),
    ("stock.received", {"stock_type": "blocked"}, [("S1", "blocked", +Q)]),
    ("stock.issued", {"reason": "sale"}, [("S1", "on_hand", -Q)]),
    ("stock.issued", {"stock_type": "quality_inspection"}, [("S1", "quality_inspection", -Q)]),
    ("stock.issued", {"stock_type": "blocked", "reason": "scrap"}, [("S1", "blocked", -Q)]),
    ("stock.returned", {}, [("S1", "quality_inspection", +Q)]),
    ("inspection.passed", {}, [("S1", "quality_inspection", -Q), ("S1", "on_hand", +Q)]),
    ("inspection.failed", {}, [("S1", "quality_inspection", -Q), ("S1", "blocked", +Q)]),
    ("stock.blocked", {}, [("S1", "on_hand", -Q), ("S1", "blocked", +Q)]),
    ("stock.unblocked", {}, [("S1", "blocked", -Q), ("S1", "on_hand", +Q)]),
    ("transfer.shipped", {"to_location": "S2"}, [("S1", "on_hand", -Q), ("S2", "in_transit", +Q)]),
    ("transfer.received", {}, [("S1", "in_transit", -Q), ("S1", "on_hand", +Q)]),
    ("transfer.moved", {"to_location": "S2"}, [("S1", "on_hand", -Q), ("S2", "on_hand", +Q)]),
    ("stock.counted", {}, []),
]


@pytest.mark.parametrize(("type_", "extra", "expected"), EFFECTS, ids=[f"{t}-{e}" for t, e, _ in EFFECTS])
def test_each_event_type_moves_exactly_its_fields(type_, extra, expected):
    changes = field_changes(event("e1", type_, quantity=Q, **extra))

    assert changes == tuple(FieldChange(loc, field, amount) for loc, field, amount in expected)


def test_the_effect_table_is_tested_for_every_event_type():
    assert {EventType(type_) for type_, _, _ in EFFECTS} == set(EventType)


@pytest.mark.parametrize("type_", [t for t in EventType if t is not EventType.COUNTED])
def test_only_receipts_returns_and_issues_change_the_total_units(type_):
    extra = {"to_location": "S2"} if type_ in (EventType.TRANSFER_SHIPPED, EventType.TRANSFER_MOVED) else {}
    net = sum(change.amount for change in field_changes(event("e1", type_, quantity=Q, **extra)))

    expected = {EventType.RECEIVED: Q, EventType.RETURNED: Q, EventType.ISSUED: -Q}.get(type_, 0)
    assert net == expected


def test_a_count_states_on_hand_from_its_quantity():
    assert snapshot_counts(event("c1", "stock.counted", quantity=7)) == {"on_hand": 7}


def test_a_count_states_the_other_stock_types_it_carries():
    counted = event("c1", "stock.counted", quantity=7, counts={"blocked": 2, "in_transit": 0})

    assert snapshot_counts(counted) == {"on_hand": 7, "blocked": 2, "in_transit": 0}


def test_a_count_of_zero_is_an_absolute_zero():
    assert snapshot_counts(event("c1", "stock.counted", quantity=0)) == {"on_hand": 0}


def test_only_a_count_is_a_snapshot():
    assert [t for t in EventType if event("e", t, to_location="S2").is_snapshot] == [EventType.COUNTED]


def test_transfers_touch_both_locations():
    assert event("e", "transfer.moved", to_location="S2").locations() == ("S1", "S2")
    assert event("e", "stock.received").locations() == ("S1",)


def test_occurred_at_ms_is_milliseconds_since_the_epoch():
    assert event("e", "stock.received", ms=1234).occurred_at_ms == int(T0.timestamp() * 1000) + 1234


def test_a_full_event_survives_the_record_round_trip_through_json():
    original = event(
        "sap:2026:4900000123:0001",
        "transfer.shipped",
        quantity=3,
        ms=5,
        to_location="D1",
        reference="ORDER-77",
        reason="delivery",
        stock_type="unrestricted",
    )
    counted = event("c|1", "stock.counted", quantity=9, counts={"quality_inspection": 1, "blocked": 2})

    for item in (original, counted):
        record = json.loads(json.dumps(event_record(item)))
        assert event_from_record(record) == item


def test_a_record_leaves_out_optional_fields_that_are_not_set():
    record = event_record(event("e1", "stock.received", quantity=2))

    assert record == {
        "event_id": "e1",
        "type": "stock.received",
        "sku": "MAT-1",
        "location": "S1",
        "quantity": 2,
        "occurred_at": T0.isoformat(),
        "source": "sap",
    }
    assert event_from_record(record).counts == {}


def test_the_record_keeps_the_instant_and_its_offset():
    cet = timezone(timedelta(hours=1))
    moment = datetime(2026, 3, 1, 10, 15, 0, 123000, tzinfo=cet)
    record = event_record(
        InventoryEvent(
            event_id="e1",
            type=EventType.RECEIVED,
            sku="MAT-1",
            location="S1",
            quantity=1,
            occurred_at=moment,
            source="sap",
        )
    )
    restored = event_from_record(record)
    assert restored.occurred_at == moment and restored.occurred_at.utcoffset() == timedelta(hours=1)
    assert restored.occurred_at_ms == int(moment.timestamp() * 1000)
