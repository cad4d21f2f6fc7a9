"""The OCI-shaped inbound side against the real process API (in-process, real Redis): availability,
reservations, releases, fulfilments, transfers, actionRequestId replays and the bounds."""

from __future__ import annotations

import pytest

from tests.system_apis.salesforce.support import OCI, count, reserve, reserved_at


def record(action_id, quantity=2, *, sku="MAT-1", ref="ORDER-1", **place):
    return {
        "actionRequestId": action_id,
        "externalRefId": ref,
        "stockKeepingUnit": sku,
        **(place or {"locationIdentifier": "S1"}),
        "quantity": quantity,
    }


# -- availability --------------------------------------------------------------------------
def test_availability_of_skus_at_locations_in_ocis_shape(client, stocked):
    answer = client.post(
        f"{OCI}/availability", json={"stockKeepingUnits": ["MAT-1", "MAT-2"], "locationIdentifiers": ["S1", "DC1"]}
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["locationGroups"] == []
    by_location = {
        entry["locationIdentifier"]: {r["stockKeepingUnit"]: r for r in entry["inventoryRecords"]}
        for entry in body["locations"]
    }
    s1 = by_location["S1"]["MAT-1"]
    assert (s1["onHand"], s1["reserved"], s1["availableToFulfill"], s1["safetyStockCount"]) == (10, 0, 10, 0)
    assert by_location["S1"]["MAT-2"]["onHand"] == 2
    dc1 = by_location["DC1"]["MAT-1"]
    assert dc1["onHand"] == 0 and dc1["futures"] == [{"expectedDate": None, "quantity": 3}]
    assert s1["effectiveDate"] and s1["futures"] == []


def test_availability_of_location_groups(client, stocked):
    answer = client.post(
        f"{OCI}/availability", json={"stockKeepingUnits": ["MAT-1"], "locationGroupIdentifiers": ["WEB-SHIP"]}
    )
    [group] = answer.get_json()["locationGroups"]
    assert group["locationGroupIdentifier"] == "WEB-SHIP"
    [entry] = group["inventoryRecords"]
    assert (entry["stockKeepingUnit"], entry["onHand"], entry["availableToFulfill"]) == ("MAT-1", 14, 14)


def test_availability_reflects_a_reservation(client, stocked, process_client):
    assert reserve(client).get_json()["success"] is True
    answer = client.post(f"{OCI}/availability", json={"stockKeepingUnits": ["MAT-1"], "locationIdentifiers": ["S1"]})
    [entry] = answer.get_json()["locations"][0]["inventoryRecords"]
    assert (entry["reserved"], entry["availableToFulfill"]) == (2, 8)


def test_unknown_location_is_a_404_problem(client, stocked):
    answer = client.post(f"{OCI}/availability", json={"stockKeepingUnits": ["MAT-1"], "locationIdentifiers": ["NOPE"]})
    assert answer.status_code == 404 and answer.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {"stockKeepingUnits": [f"MAT-{n}" for n in range(101)], "locationIdentifiers": ["S1"]},
        {"stockKeepingUnits": ["MAT-1"], "locationIdentifiers": [f"S{n}" for n in range(101)]},
        {"stockKeepingUnits": ["MAT-1"], "locationGroupIdentifiers": [f"G{n}" for n in range(101)]},
        {"stockKeepingUnits": ["MAT-1"], "locationIdentifiers": ["S1"], "locationGroupIdentifiers": ["WEB-SHIP"]},
        {"stockKeepingUnits": ["MAT-1"]},
        {"stockKeepingUnits": []},
    ],
)
def test_availability_bounds_are_422_problems(client, body):
    answer = client.post(f"{OCI}/availability", json=body)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert answer.get_json()["errors"]["json"]


# -- reservations --------------------------------------------------------------------------
def test_reservation_holds_stock_for_the_salesforce_channel(client, stocked, process_client):
    answer = reserve(
        client, "act-1", {"stockKeepingUnit": "MAT-1", "locationGroupIdentifier": "WEB-SHIP", "quantity": 3.0}
    )
    body = answer.get_json()
    assert answer.status_code == 200 and body["success"] is True and body["actionRequestId"] == "act-1"
    assert body["expirationTime"] > body["reservationTime"]
    assert body["details"] == [
        {
            "stockKeepingUnit": "MAT-1",
            "locationGroupIdentifier": "WEB-SHIP",
            "quantity": 3,
            "reservedQuantity": 3,
            "success": True,
            "errors": [],
        }
    ]
    assert reserved_at(process_client) + reserved_at(process_client, location="S2") == 3


def test_all_or_nothing_reservation_short_on_one_line_reserves_nothing(client, stocked, process_client):
    body = reserve(
        client,
        "act-1",
        {"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 2},
        {"stockKeepingUnit": "MAT-2", "locationIdentifier": "S1", "quantity": 5},
    ).get_json()
    assert body["success"] is False and body["expirationTime"] is None
    assert [d["success"] for d in body["details"]] == [False, False]
    assert body["details"][1]["errors"][0] == {
        "errorCode": "INSUFFICIENT_QUANTITY",
        "message": "5 requested, 2 available",
    }
    assert body["errors"][0]["errorCode"] == "INSUFFICIENT_STOCK"
    assert reserved_at(process_client) == 0 and reserved_at(process_client, "MAT-2") == 0


def test_partial_reservation_reserves_what_there_is(client, stocked, process_client):
    body = reserve(
        client,
        "act-1",
        {"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 2},
        {"stockKeepingUnit": "MAT-2", "locationIdentifier": "S1", "quantity": 5},
        partial=True,
    ).get_json()
    assert body["success"] is True
    assert [(d["reservedQuantity"], d["success"]) for d in body["details"]] == [(2, True), (2, False)]
    assert body["details"][1]["errors"][0]["errorCode"] == "INSUFFICIENT_QUANTITY"
    assert reserved_at(process_client, "MAT-2") == 2


def test_a_repeated_action_request_id_answers_as_the_first_time_and_reserves_once(client, stocked, process_client):
    first = reserve(client, "act-1").get_json()
    again = reserve(client, "act-1").get_json()
    assert again == first
    assert reserved_at(process_client) == 2


def test_a_repeated_refusal_is_answered_the_same_even_once_stock_arrived(client, stocked, process_client):
    short = {"stockKeepingUnit": "MAT-2", "locationIdentifier": "S1", "quantity": 5}
    first = reserve(client, "act-1", short).get_json()
    count(process_client, "MAT-2", "S1", 50, event_id="recount")
    assert reserve(client, "act-1", short).get_json() == first
    assert reserved_at(process_client, "MAT-2") == 0


def test_the_same_action_request_id_with_another_body_is_a_422(client, stocked, process_client):
    reserve(client, "act-1")
    answer = reserve(client, "act-1", {"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 3})
    assert answer.status_code == 422 and answer.get_json()["type"].endswith("/action-request-id-reused")
    assert reserved_at(process_client) == 2


def test_a_repeat_after_a_crash_before_the_answer_was_stored_reserves_once(client, stocked, process_client, store):
    reserve(client, "act-1")
    store.delete("sf:oci:{act-1}:answer")  # as if the API died after the process API reserved
    again = reserve(client, "act-1").get_json()
    assert again["success"] is True and again["details"][0]["reservedQuantity"] == 2
    assert reserved_at(process_client) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"expirationSeconds": 14401},
        {"createRecords": [{"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 1}] * 101},
        {"createRecords": [{"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 1.5}]},
        {"createRecords": [{"stockKeepingUnit": "MAT-1", "quantity": 1}]},
        {"createRecords": []},
        {"actionRequestId": None},
        *[
            {field: text}
            for field in ("externalRefId", "reservationTime", "actionRequestId")
            for text in ("x\n", "x\u0000", "\ud800")
        ],
    ],
)
def test_reservation_bounds_are_422_problems(client, stocked, process_client, change):
    body = {
        "actionRequestId": "act-1",
        "createRecords": [{"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 1}],
        **change,
    }
    answer = client.post(f"{OCI}/reservations", json=body)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert reserved_at(process_client) == 0


# -- releases, fulfilments, transfers ------------------------------------------------------
def test_release_frees_the_units_once_however_often_it_is_sent(client, stocked, process_client):
    reserve(client, "act-1", {"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 5})
    body = {"releaseRecords": [record("rel-1", 2)]}
    first = client.post(f"{OCI}/releases", json=body).get_json()
    again = client.post(f"{OCI}/releases", json=body).get_json()
    assert first == again and first["errors"] == []
    assert first["successes"] == [
        {
            "actionRequestId": "rel-1",
            "externalRefId": "ORDER-1",
            "stockKeepingUnit": "MAT-1",
            "locationIdentifier": "S1",
            "quantity": 2,
        }
    ]
    assert reserved_at(process_client) == 3


def test_release_of_a_group_line_takes_units_from_its_locations(client, stocked, process_client):
    reserve(client, "act-1", {"stockKeepingUnit": "MAT-1", "locationGroupIdentifier": "WEB-SHIP", "quantity": 12})
    answer = client.post(
        f"{OCI}/releases", json={"releaseRecords": [record("rel-1", 12, locationGroupIdentifier="WEB-SHIP")]}
    ).get_json()
    assert answer["errors"] == [] and len(answer["successes"]) == 1
    assert reserved_at(process_client) + reserved_at(process_client, location="S2") == 0


def test_release_of_more_than_is_held_is_a_per_record_error(client, stocked, process_client):
    reserve(client)
    answer = client.post(f"{OCI}/releases", json={"releaseRecords": [record("rel-1", 5), record("rel-2", 1)]})
    body = answer.get_json()
    assert answer.status_code == 200 and [s["actionRequestId"] for s in body["successes"]] == ["rel-2"]
    [error] = body["errors"]
    assert error["errorCode"] == "RESERVATION_NOT_FOUND" and error["details"]["actionRequestId"] == "rel-1"
    assert reserved_at(process_client) == 1


def test_fulfilment_covering_the_reservation_fulfils_it(client, stocked, process_client):
    reserve(
        client,
        "act-1",
        {"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 2},
        {"stockKeepingUnit": "MAT-2", "locationIdentifier": "S1", "quantity": 1},
    )
    body = {"fulfillmentRecords": [record("ful-1", 2), record("ful-2", 1, sku="MAT-2")]}
    answer = client.post(f"{OCI}/fulfillments", json=body).get_json()
    assert answer["errors"] == [] and len(answer["successes"]) == 2
    assert client.post(f"{OCI}/fulfillments", json=body).get_json() == answer
    reservations = process_client.get("/inventory/v1/availability", query_string={"sku": "MAT-1", "location": "S1"})
    assert reservations.get_json()["positions"][0]["reserved"] == 2  # held until SAP's goods issue arrives


def test_partial_fulfilment_is_refused_per_record_and_changes_nothing(client, stocked, process_client):
    reserve(client, "act-1", {"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 4})
    answer = client.post(f"{OCI}/fulfillments", json={"fulfillmentRecords": [record("ful-1", 1)]}).get_json()
    [error] = answer["errors"]
    assert error["errorCode"] == "PARTIAL_FULFILLMENT_UNSUPPORTED" and "Release" in error["message"]
    # the documented way: release what will not ship, then fulfil the rest
    client.post(f"{OCI}/releases", json={"releaseRecords": [record("rel-1", 3)]})
    done = client.post(f"{OCI}/fulfillments", json={"fulfillmentRecords": [record("ful-2", 1)]}).get_json()
    assert done["errors"] == [] and reserved_at(process_client) == 1


def test_transfer_moves_the_reservation_to_the_target_location(client, stocked, process_client):
    reserve(client, "act-1", {"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 3})
    body = {"transferRecords": [record("tra-1", 2, toLocationIdentifier="S2", locationIdentifier="S1")]}
    answer = client.post(f"{OCI}/transfers", json=body).get_json()
    assert answer["errors"] == [] and answer["successes"][0]["toLocationIdentifier"] == "S2"
    assert client.post(f"{OCI}/transfers", json=body).get_json() == answer
    assert (reserved_at(process_client), reserved_at(process_client, location="S2")) == (1, 2)
    # the moved units can be released at their new place, by the same externalRefId
    client.post(f"{OCI}/releases", json={"releaseRecords": [record("rel-1", 2, locationIdentifier="S2")]})
    assert reserved_at(process_client, location="S2") == 0


def test_transfer_to_a_short_location_changes_nothing(client, stocked, process_client):
    reserve(client, "act-1", {"stockKeepingUnit": "MAT-1", "locationIdentifier": "S1", "quantity": 6})
    answer = client.post(
        f"{OCI}/transfers",
        json={"transferRecords": [record("tra-1", 6, toLocationIdentifier="S2", locationIdentifier="S1")]},
    ).get_json()
    assert answer["errors"][0]["errorCode"] == "INSUFFICIENT_STOCK"
    assert (reserved_at(process_client), reserved_at(process_client, location="S2")) == (6, 0)


def test_action_records_are_bounded(client):
    answer = client.post(f"{OCI}/releases", json={"releaseRecords": [record(f"rel-{n}") for n in range(101)]})
    assert answer.status_code == 422
    answer = client.post(f"{OCI}/transfers", json={"transferRecords": [record("tra-1")]})
    assert (
        answer.status_code == 422
        and "toLocationIdentifier" in answer.get_json()["errors"]["json"]["transferRecords"]["0"]
    )
