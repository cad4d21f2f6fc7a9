"""Locations and location groups over HTTP against a real redis-server: PUT creates then replaces,
invalid ones are a 422 and not stored."""

from __future__ import annotations

import pytest

from tests.process_apis.inventory.support import V1, assert_problem


def test_putting_a_location_creates_then_replaces_it(api):
    body = {
        "type": "store",
        "name": "Berlin Mitte",
        "region": "DE-BE",
        "channels": ["web"],
        "fulfilment_methods": ["pickup"],
    }

    created = api.put(f"{V1}/locations/S1", json=body)
    replaced = api.put(f"{V1}/locations/S1", json={**body, "name": "Berlin"})

    assert (created.status_code, replaced.status_code) == (201, 200)
    stored = api.get(f"{V1}/locations/S1").get_json()
    assert {k: stored[k] for k in ("id", "type", "name", "region", "channels", "fulfilment_methods")} == {
        "id": "S1",
        "type": "store",
        "name": "Berlin",
        "region": "DE-BE",
        "channels": ["web"],
        "fulfilment_methods": ["pickup"],
    }
    assert [loc["id"] for loc in api.get(f"{V1}/locations").get_json()] == ["S1"]


@pytest.mark.parametrize(
    ("location_id", "body"),
    [
        ("S1", {"type": "warehouse"}),
        ("S1", {}),
        ("{S1}", {"type": "store"}),
    ],
)
def test_an_invalid_location_is_a_422(api, location_id, body):
    assert_problem(api.put(f"{V1}/locations/{location_id}", json=body), 422)
    assert api.get(f"{V1}/locations").get_json() == []


def test_putting_a_group_creates_then_replaces_it(network):
    created = network.put(f"{V1}/location-groups/PICKUP", json={"members": ["S2", "S1"], "fulfilment_method": "pickup"})
    replaced = network.put(f"{V1}/location-groups/PICKUP", json={"members": ["S1"], "fulfilment_method": "pickup"})

    assert (created.status_code, replaced.status_code) == (201, 200)
    stored = network.get(f"{V1}/location-groups/PICKUP").get_json()
    assert (stored["members"], stored["sourcing_strategy"]) == (["S1"], "priority")
    assert stored["fulfilment_method"] == "pickup"
    assert [g["id"] for g in network.get(f"{V1}/location-groups").get_json()] == ["PICKUP", "WEB-MOST", "WEB-SHIP"]


def test_a_group_with_an_unknown_member_is_a_422_and_not_stored(network):
    problem = assert_problem(network.put(f"{V1}/location-groups/G", json={"members": ["S1", "NOWHERE"]}), 422)

    assert "NOWHERE" in problem["detail"]
    assert_problem(network.get(f"{V1}/location-groups/G"), 404)
