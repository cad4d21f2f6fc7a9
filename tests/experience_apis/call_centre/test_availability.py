"""Network-wide availability for agents: every location serving the call centre, what each may
sell and what is on its way to it (ETAs), and the totals per SKU."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support.experience import SKU, assert_problem, availability, count, now, ship

AVAILABILITY = "/call-centre/v1/availability"
OTHER_SKU = "MAT-9002"


@pytest.fixture
def stocked(process):
    """MAT-9001: DC01 20, S001 6, S002 0 with 4 on their way from DC01 (ETA tomorrow) and 2 from S003 (no
    ETA), S003 5. A store S007 that does not serve the call centre holds 50."""
    assert process.put("/inventory/v1/locations/S007", json={"type": "store", "channels": ["store"]}).status_code == 201
    for location, units in (("DC01", 20), ("S001", 6), ("S002", 0), ("S003", 5), ("S007", 50)):
        count(process, location, units)
    eta = (now() + timedelta(days=1)).replace(microsecond=0)
    ship(process, "DC01", "S002", 4, expected_at=eta)
    ship(process, "S003", "S002", 2, expected_at=None)
    return eta


def test_availability_lists_every_call_centre_location_with_etas_and_totals(agent, process, stocked):
    response = agent.get(AVAILABILITY, query_string={"sku": SKU})

    assert response.status_code == 200
    [sku] = response.get_json()["skus"]
    locations = {location["location"]: location for location in sku["locations"]}
    assert sorted(locations) == ["DC01", "S001", "S002", "S003"]  # S007 does not serve the call centre
    for location_id, location in locations.items():
        expected = availability(process, location_id, "call_centre")
        assert (location["available_to_sell"], location["available_to_order"]) == (
            expected["available_to_sell"],
            expected["available_to_order"],
        )
    s002 = locations["S002"]
    assert s002["in_transit"] == 6
    assert [(item["quantity"], item["from_location"]) for item in s002["incoming"]] == [(4, "DC01"), (2, "S003")]
    assert datetime.fromisoformat(s002["incoming"][0]["expected_at"]) == stocked
    assert s002["incoming"][1]["expected_at"] is None
    assert sku["total"]["available_to_sell"] == sum(loc["available_to_sell"] for loc in locations.values())
    assert sku["total"]["available_to_order"] == sum(loc["available_to_order"] for loc in locations.values())
    assert sku["total"]["in_transit"] == 6
    assert datetime.fromisoformat(sku["total"]["next_expected_at"]) == stocked


def test_availability_answers_each_sku_asked_in_order(agent, stocked):
    answer = agent.get(AVAILABILITY, query_string={"sku": [OTHER_SKU, SKU, OTHER_SKU]}).get_json()

    assert [sku["sku"] for sku in answer["skus"]] == [OTHER_SKU, SKU]
    assert answer["skus"][0]["total"] == {
        "available_to_sell": 0,
        "available_to_order": 0,
        "in_transit": 0,
        "next_expected_at": None,
    }


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"sku": [f"MAT-{n}" for n in range(21)]},
        {"sku": "MAT 1"},
        {"sku": SKU, "location": "S001"},
    ],
)
def test_availability_needs_1_to_20_valid_skus_and_no_other_parameter(agent, query):
    assert_problem(agent.get(AVAILABILITY, query_string=query), 422)
