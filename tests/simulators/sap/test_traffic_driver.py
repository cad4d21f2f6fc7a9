"""The traffic driver against the demo landscape over HTTP: realistic mix, paced, never short."""

from __future__ import annotations

import json

import pytest

from simulators.sap import driver
from simulators.sap.driver import run_traffic
from simulators.sap.system import SimulatorOptions
from tests.simulators.sap.support import FAST_DELIVERY, ODATA, PASSWORD, USER


@pytest.fixture
def simulator_options():
    return SimulatorOptions(page_size=50, delivery=FAST_DELIVERY, demo=True)


def test_the_driver_posts_every_kind_of_retail_movement_without_a_rejection(simulator):
    result = run_traffic(simulator.url + ODATA, USER, PASSWORD, rate=2000, duration=30, max_documents=400, seed=11)
    assert result.rejected == 0 and result.errors == 0
    assert result.posted + result.skipped == 400
    assert set(result.by_movement_type) >= {
        "251",
        "252",
        "101",
        "651",
        "655",
        "321",
        "350",
        "301",
        "311",
        "303",
        "305",
        "641",
        "551",
        "701",
        "702",
    }
    assert result.cancelled > 0 and any(t in result.by_movement_type for t in ("102", "252", "552", "652"))
    documents = simulator.system.stock.documents()
    assert len(documents) == result.posted
    assert any(i["GoodsMovementType"] == "101" and i["IssuingOrReceivingPlant"] for d in documents for i in d.items)
    assert any(i["EntryUnit"] == "KAR" for d in documents for i in d.items)
    assert all(row["quantity"] >= 0 for row in simulator.system.stock_snapshot()["stock"])


def test_the_driver_keeps_its_pace(simulator):
    result = run_traffic(simulator.url + ODATA, USER, PASSWORD, rate=40, duration=0.5, seed=3)
    assert 0.5 <= result.elapsed_seconds < 1.5
    assert 15 <= result.posted + result.skipped <= 21  # a tick every 25 ms


def test_the_driver_survives_injected_failures(simulator):
    simulator.system.faults.update(error_rate=0.3, seed=2)
    result = run_traffic(simulator.url + ODATA, USER, PASSWORD, rate=2000, duration=10, max_documents=60, seed=5)
    assert result.errors > 0 and result.posted > 0
    assert all(row["quantity"] >= 0 for row in simulator.system.stock_snapshot()["stock"])


def test_command_line_prints_the_counts(simulator, capsys):
    assert (
        driver.main(
            [
                "--base-url",
                simulator.url + ODATA,
                "--user",
                USER,
                "--password",
                PASSWORD,
                "--rate",
                "500",
                "--duration",
                "5",
                "--max-documents",
                "20",
            ]
        )
        == 0
    )
    counts = json.loads(capsys.readouterr().out)
    assert counts["posted"] + counts["skipped"] == 20 and counts["errors"] == 0
