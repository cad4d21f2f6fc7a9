"""The versioned rule set over HTTP against a real redis-server: ETag / If-Match, and availability
following a new rule set at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.process_apis.inventory.support import V1, assert_problem, position, put_rules, receive, send
from tests.support.inventory import event_json


def test_the_rule_set_starts_empty_at_version_0(api):
    response = api.get(f"{V1}/rules")

    assert response.status_code == 200 and response.headers["ETag"] == '"rules-v0"'
    assert response.get_json()["version"] == 0


def test_replacing_rules_needs_the_current_etag(api):
    document = {"safety_stock": [{"units": 2}]}

    assert_problem(api.put(f"{V1}/rules", json=document), 428)
    stale = assert_problem(api.put(f"{V1}/rules", json=document, headers={"If-Match": '"rules-v7"'}), 412)
    assert "rules-v0" in stale["detail"]
    assert api.put(f"{V1}/rules", json=document, headers={"If-Match": '"rules-v7"'}).headers["ETag"] == '"rules-v0"'

    good = api.put(f"{V1}/rules", json=document, headers={"If-Match": '"rules-v0"'})
    assert good.status_code == 200 and good.headers["ETag"] == '"rules-v1"'
    assert (good.get_json()["version"], good.get_json()["safety_stock"][0]["units"]) == (1, 2)

    reread = api.get(f"{V1}/rules")
    assert reread.headers["ETag"] == '"rules-v1"' and reread.get_json()["version"] == 1
    assert_problem(api.put(f"{V1}/rules", json={}, headers={"If-Match": '"rules-v0"'}), 412)
    assert api.put(f"{V1}/rules", json={}, headers={"If-Match": "*"}).headers["ETag"] == '"rules-v2"'


def test_two_rules_with_the_same_selector_are_a_422(api):
    document = {"safety_stock": [{"sku": "MAT-1", "units": 1}, {"sku": "MAT-1", "percent": 10}]}

    assert_problem(put_rules(api, document), 422)
    assert api.get(f"{V1}/rules").get_json()["version"] == 0


@pytest.mark.parametrize(
    ("rule", "expected_available"),
    [
        ({"units": 2}, 8),
        ({"percent": 15}, 8),  # 1.5 units, rounded up
        ({"location": "S2", "units": 5}, 10),
        ({"sku": "MAT-1", "channel": "web", "units": 4}, 6),
    ],
)
def test_safety_stock_changes_availability_at_once(network, rule, expected_available):
    receive(network, 10)
    assert position(network, channel="web")["available_to_sell"] == 10

    assert put_rules(network, {"safety_stock": [rule]}).status_code == 200

    assert position(network, channel="web")["available_to_sell"] == expected_available


def test_an_allocation_for_another_channel_is_held_back(network):
    receive(network, 10)

    assert put_rules(network, {"allocations": [{"channel": "store", "location": "S1", "units": 3}]}).status_code == 200

    web, store = position(network, channel="web"), position(network, channel="store")
    assert (web["available_to_sell"], web["allocated"]) == (7, 3)
    assert (store["available_to_sell"], store["allocated"]) == (10, 0)


def test_a_time_windowed_promotion_allocation_applies_only_inside_its_window(network):
    receive(network, 10)
    now = datetime.now(UTC)
    document = {
        "allocations": [
            {
                "channel": "store",
                "location": "S1",
                "units": 2,
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(),
            },
            {
                "channel": "call_centre",
                "location": "S1",
                "units": 5,
                "starts_at": (now + timedelta(days=1)).isoformat(),
            },
        ]
    }

    assert put_rules(network, document).status_code == 200

    assert position(network, channel="web")["available_to_sell"] == 8


def test_a_time_windowed_rule_set_reads_back_as_stored(network):
    starts = "2026-11-27T00:00:00+00:00"
    put_rules(network, {"allocations": [{"channel": "web", "location": "S1", "units": 1, "starts_at": starts}]})

    response = network.get(f"{V1}/rules")

    assert response.status_code == 200
    assert response.get_json()["allocations"][0]["starts_at"] == starts


def test_low_stock_band_and_incoming_stock_come_from_rules(network):
    receive(network, 3)
    send(network, event_json("ship", "transfer.shipped", location="D1", to_location="S1", quantity=5, ms=10**6))

    put_rules(network, {"low_stock": [{"threshold": 5}], "channels_selling_incoming": ["web"]})

    web, store = position(network, channel="web"), position(network, channel="store")
    assert (web["available_to_sell"], web["available_to_order"], web["status"]) == (3, 8, "in_stock")
    assert (store["available_to_sell"], store["available_to_order"], store["status"]) == (3, 3, "low_stock")
    assert position(network, "D1")["negative"] is True
