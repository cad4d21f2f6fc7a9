"""The ingest fast path gives exactly what EventSchema gives, or steps aside for marshmallow.

`event_parsing._fast_event(item)` must return either None (marshmallow then decides and words the
errors) or an InventoryEvent equal to `EventSchema().load(item)`; `load_event` must accept and
reject exactly what the schema does, with the schema's messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from process_apis.inventory.domain.events import ISSUE_REASONS, STOCK_TYPES, EventType
from process_apis.inventory.service.event_parsing import FAST_PATH_FIELDS, EventSchema, _fast_event, load_event

SCHEMA = EventSchema()


def _schema(item):
    try:
        return SCHEMA.load(item), None
    except ValidationError as error:
        return None, error.messages


def _load_event(item):
    try:
        return load_event(item), None
    except ValidationError as error:
        return None, error.messages


def _assert_same(item) -> None:
    fast = _fast_event(item)
    expected, errors = _schema(item)
    if fast is not None:
        assert errors is None, (item, errors)
        assert fast == expected, item
        assert type(fast.type) is EventType and fast.counts == expected.counts
    assert _load_event(item) == (expected, errors), item


def test_the_fast_path_knows_every_field_of_the_schema():
    assert FAST_PATH_FIELDS == set(EventSchema().fields)


def _valid(**changes) -> dict:
    item = {
        "event_id": "sap:1",
        "type": "stock.issued",
        "sku": "MAT-1",
        "location": "S1",
        "quantity": 2,
        "occurred_at": "2026-01-01T10:00:00Z",
        "source": "sap",
    }
    item.update(changes)
    return {key: value for key, value in item.items() if value is not _DROP}


_DROP = object()


@pytest.mark.parametrize(
    "item",
    [
        _valid(),
        _valid(reason="sale", reference="ORDER-1"),
        _valid(type="stock.received", stock_type="quality_inspection"),
        _valid(type="transfer.shipped", to_location="S2"),
        _valid(type="transfer.shipped", to_location="S2", expected_at=None),
        _valid(type="transfer.moved", to_location="S2", reference=None),
        _valid(type="stock.counted", quantity=0, counts={"blocked": 3}),
        _valid(type="stock.counted", counts={}),
        _valid(type="stock.counted", counts=None),
        _valid(occurred_at="2026-01-01T10:00:00.123456+02:00"),
    ],
)
def test_plainly_valid_events_take_the_fast_path_with_the_schema_result(item):
    assert _fast_event(item) is not None
    _assert_same(item)


@pytest.mark.parametrize(
    "item",
    [
        _valid(quantity=0),  # only counts may state 0
        _valid(quantity=1.0),
        _valid(quantity="2"),
        _valid(quantity=True),
        _valid(quantity=-1),
        _valid(quantity=10**9 + 1),
        _valid(occurred_at="2026-01-01T10:00:00"),  # naive
        _valid(occurred_at="yesterday"),
        _valid(occurred_at=""),
        _valid(occurred_at=1767261600),
        _valid(type="stock.sold"),
        _valid(type=None),
        _valid(sku="MAT{1}"),
        _valid(sku=""),
        _valid(location=None),
        _valid(sku="MAT-1\n"),  # the schema's Regexp uses match with `$`: whatever it decides, the same
        _valid(event_id=""),
        _valid(event_id="x" * 201),
        _valid(source=""),
        _valid(source=7),
        _valid(type="transfer.shipped"),
        _valid(type="transfer.shipped", to_location="S1"),
        _valid(to_location="S2"),
        _valid(to_location=""),
        _valid(reason="theft"),
        _valid(reason=None),
        _valid(stock_type="damaged"),
        _valid(reference=""),
        _valid(counts={"blocked": 1}),
        _valid(type="stock.counted", counts={"on_hand": 1}),
        _valid(type="stock.counted", counts={"blocked": -1}),
        _valid(type="stock.counted", counts=[1]),
        _valid(extra="field"),
        _valid(quantity=_DROP),
        _valid(event_id=_DROP),
    ],
)
def test_anything_else_gives_exactly_the_schema_outcome(item):
    _assert_same(item)


_TEXT = st.one_of(
    st.sampled_from(["", "S1", "S2", "MAT-1", "a b", "x" * 65, "x" * 129, "x" * 201, "MAT-1\n", "é", "{1}"]),
    st.text(max_size=8),
)
_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 10**9 + 2),
    st.floats(allow_nan=False),
    _TEXT,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(_TEXT, st.integers(-1, 3), max_size=2),
)
_INSTANTS = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, None])).map(lambda d: d.isoformat()),
    st.sampled_from(["2026-01-01T10:00:00Z", "2026-01-01", "2026-01-01T10:00:00+00:00", "not a date"]),
    _ANY,
)
_FIELDS = {
    "event_id": st.one_of(st.text(min_size=1, max_size=12), _ANY),
    "type": st.one_of(st.sampled_from([t.value for t in EventType]), _ANY),
    "sku": st.one_of(st.sampled_from(["MAT-1", "MAT-2"]), _ANY),
    "location": st.one_of(st.sampled_from(["S1", "S2"]), _ANY),
    "to_location": st.one_of(st.sampled_from(["S1", "S2"]), _ANY),
    "quantity": st.one_of(st.integers(0, 5), _ANY),
    "occurred_at": _INSTANTS,
    "source": st.one_of(st.just("sap"), _ANY),
    "reference": st.one_of(st.just("ORDER-1"), _ANY),
    "reason": st.one_of(st.sampled_from(ISSUE_REASONS), _ANY),
    "stock_type": st.one_of(st.sampled_from(list(STOCK_TYPES)), _ANY),
    "counts": st.one_of(
        st.dictionaries(
            st.sampled_from(["quality_inspection", "blocked", "in_transit", "on_hand"]),
            st.one_of(st.integers(-1, 5), _ANY),
            max_size=3,
        ),
        _ANY,
    ),
    "expected_at": _INSTANTS,
    "unexpected": _ANY,
}


@st.composite
def _items(draw) -> dict:
    """A valid event of any type (optional fields or not), then 0-2 fields broken, dropped or added."""
    kind = draw(st.sampled_from(list(EventType)))
    item = {
        "event_id": draw(st.text(min_size=1, max_size=12)),
        "type": kind.value,
        "sku": draw(st.sampled_from(["MAT-1", "MAT-2", "a.b:c/d-9"])),
        "location": "S1",
        "quantity": draw(st.integers(0 if kind is EventType.COUNTED else 1, 10**9)),
        "occurred_at": draw(_INSTANTS_VALID),
        "source": "sap",
    }
    if kind in (EventType.TRANSFER_SHIPPED, EventType.TRANSFER_MOVED):
        item["to_location"] = "S2"
    optional = {
        "reference": st.text(min_size=1, max_size=128),
        "reason": st.sampled_from(ISSUE_REASONS),
        "stock_type": st.sampled_from(list(STOCK_TYPES)),
        "to_location": st.none(),
    }
    if kind is EventType.TRANSFER_SHIPPED:
        optional["expected_at"] = st.one_of(st.none(), _INSTANTS_VALID)
    if kind is EventType.COUNTED:
        optional["counts"] = st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(["quality_inspection", "blocked", "in_transit"]), st.integers(0, 10**9), max_size=3
            ),
        )
    for name, strategy in optional.items():
        if name not in item and draw(st.booleans()):
            item[name] = draw(strategy)
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        name = draw(st.sampled_from(sorted(_FIELDS)))
        if draw(st.integers(0, 4)) == 0:
            item.pop(name, None)
        else:
            item[name] = draw(_FIELDS[name])
    return item


_INSTANTS_VALID = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])).map(
    lambda moment: moment.isoformat()
)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_items())
def test_any_item_gets_the_same_outcome_as_from_the_schema(item):
    _assert_same(item)


def test_the_fast_path_is_taken_for_the_usual_event():
    event = _fast_event(_valid(reason="sale"))
    assert event is not None and event.occurred_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
