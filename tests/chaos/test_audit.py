"""The chaos run's judgement: it must catch a lost, a doubled and an unacknowledged-but-applied event,
an oversold reservation and a recovery past its bound."""

from chaos.audit import EventLedger, ReservationLedger, Row, differences, oversold, recovery_seconds, table


def ledger() -> EventLedger:
    events = EventLedger(baseline={("SKU-1", "S001"): 100})
    events.acknowledged = {"e1": (("SKU-1", "S001"), +5), "e2": (("SKU-1", "S001"), -3)}
    return events


def test_expected_stock_is_the_baseline_plus_every_acknowledged_delta():
    assert ledger().expected() == {("SKU-1", "S001"): 102}


def test_an_acknowledged_event_that_was_lost_is_a_difference():
    assert differences(ledger().expected(), {("SKU-1", "S001"): 97}) == ["('SKU-1', 'S001'): expected 102, gateway 97"]


def test_an_event_applied_twice_is_a_difference():
    assert differences(ledger().expected(), {("SKU-1", "S001"): 107})


def test_a_position_the_gateway_has_and_the_harness_never_touched_is_a_difference():
    assert differences({}, {("SKU-2", "S001"): 1}) == ["('SKU-2', 'S001'): expected 0, gateway 1"]


def test_equal_tables_have_no_difference():
    assert differences(ledger().expected(), {("SKU-1", "S001"): 102}) == []


def test_units_held_beyond_sellable_stock_are_oversold():
    reservations = ReservationLedger(
        accepted={"k1": [("SKU-1", 20)], "k2": [("SKU-1", 9), ("SKU-2", 1)], "k3": [("SKU-1", 1)]}
    )
    assert oversold(reservations.held(), {"SKU-1": 29, "SKU-2": 5}) == {"SKU-1": 1}
    assert oversold(reservations.held(), {"SKU-1": 30, "SKU-2": 5}) == {}


def test_recovery_is_the_first_answer_after_the_fault():
    assert recovery_seconds([1.0, 4.5, 6.0], since=3.0) == 1.5
    assert recovery_seconds([1.0], since=3.0) is None


def test_a_row_fails_on_a_loss_an_unanswered_request_or_a_late_recovery():
    assert Row("fine", 10, 10, 0, 1.0, 2.0).ok
    assert not Row("lost", 10, 10, 1).ok
    assert not Row("unanswered", 10, 9, 0).ok
    assert not Row("late", 1, 1, 0, 2.5, 2.0).ok
    assert not Row("never", 1, 1, 0, None, 2.0).ok


def test_the_table_says_which_rows_failed():
    rendered = table([Row("fine", 1, 1, 0), Row("never", 1, 1, 0, None, 2.0)])
    assert "| fine " in rendered and "ok" in rendered
    assert "never" in rendered and "FAILED" in rendered
