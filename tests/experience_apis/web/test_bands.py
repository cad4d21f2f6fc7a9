"""Bands and capped display quantities: what the web shop may show of an availability (pure, no I/O)."""

from __future__ import annotations

import pytest

from experience_apis.web.bands import BACKORDER, IN_STOCK, LOW_STOCK, OUT_OF_STOCK, band, display_quantity, shown


@pytest.mark.parametrize(
    ("units", "expected"), [(0, "0"), (1, "1"), (9, "9"), (10, "10"), (11, "10+"), (5000, "10+"), (-3, "0")]
)
def test_display_quantity_shows_the_number_up_to_the_cap_and_cap_plus_above(units, expected):
    assert display_quantity(units, 10) == expected


def test_sellable_stock_keeps_the_process_apis_low_stock_band():
    assert band(available_to_sell=2, available_to_order=2, status=LOW_STOCK) == LOW_STOCK
    assert band(available_to_sell=50, available_to_order=50, status=IN_STOCK) == IN_STOCK


def test_nothing_sellable_but_incoming_orderable_is_a_backorder():
    # The process API calls it in_stock (it counts incoming stock the web may sell); the web tells them apart.
    assert band(available_to_sell=0, available_to_order=12, status=IN_STOCK) == BACKORDER


def test_nothing_sellable_nor_orderable_is_out_of_stock():
    assert band(available_to_sell=0, available_to_order=0, status=OUT_OF_STOCK) == OUT_OF_STOCK


def test_shown_keeps_only_band_and_capped_quantity():
    position = {
        "available_to_sell": 37,
        "available_to_order": 40,
        "status": IN_STOCK,
        "on_hand": 44,
        "reserved": 3,
        "safety_stock": 4,
    }
    assert shown(position, 10) == {"status": IN_STOCK, "quantity": "10+"}


def test_backorder_shows_the_incoming_units_the_web_may_order():
    assert shown({"available_to_sell": 0, "available_to_order": 5, "status": IN_STOCK}, 10) == {
        "status": BACKORDER,
        "quantity": "5",
    }
    assert shown({"available_to_sell": 0, "available_to_order": 0, "status": OUT_OF_STOCK}, 10) == {
        "status": OUT_OF_STOCK,
        "quantity": "0",
    }
