"""What the web shop may show of an availability: a status band and a capped display quantity,
never the quantities behind them (on hand, reserved, safety stock, exact counts above the cap)."""

from __future__ import annotations

IN_STOCK, LOW_STOCK, OUT_OF_STOCK, BACKORDER = "in_stock", "low_stock", "out_of_stock", "backorder"
BANDS = (IN_STOCK, LOW_STOCK, BACKORDER, OUT_OF_STOCK)


def band(*, available_to_sell: int, available_to_order: int, status: str) -> str:
    """The web band of one availability from the process API.

    The process API's `status` (low-stock thresholds are its rules, not ours) counts incoming stock
    a channel may sell; the web tells "on hand now" from "only incoming" apart: nothing sellable but
    something orderable is a backorder."""
    if available_to_sell > 0:
        return LOW_STOCK if status == LOW_STOCK else IN_STOCK
    return BACKORDER if available_to_order > 0 else OUT_OF_STOCK


def display_quantity(units: int, cap: int) -> str:
    """`units` as the shop shows it: "7", or "10+" above a cap of 10 (the exact count stays hidden)."""
    return f"{cap}+" if units > cap else str(max(units, 0))


def shown(availability: dict, cap: int) -> dict:
    """{status, quantity} of a process-API position or group availability. The quantity is what the
    band is about: units sellable now, or for a backorder the units the web may order incoming."""
    status = band(
        available_to_sell=availability["available_to_sell"],
        available_to_order=availability["available_to_order"],
        status=availability["status"],
    )
    units = {
        IN_STOCK: availability["available_to_sell"],
        LOW_STOCK: availability["available_to_sell"],
        BACKORDER: availability["available_to_order"],
        OUT_OF_STOCK: 0,
    }[status]
    return {"status": status, "quantity": display_quantity(units, cap)}


NOTHING = {"status": OUT_OF_STOCK, "quantity": "0"}
