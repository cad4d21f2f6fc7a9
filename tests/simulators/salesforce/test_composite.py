"""sObject Collections: 200 records per call, allOrNone rollback, per-record results in order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.simulators.salesforce.support import AVAILABILITY, DATA, availability, error_code
from tests.support.processes import serving


def keys(count: int) -> list[str]:
    return [f"MAT-{1001 + n % 20}|S{n // 20:03d}" for n in range(count)]


def test_200_records_are_upserted_in_one_call_with_results_in_order(rest):
    answer = rest.upsert_collection([availability(k) for k in keys(200)])
    assert answer.status_code == 200
    assert len(answer.json) == 200 and all(r["success"] and r["created"] for r in answer.json)
    stored = {r["Id"]: r["Availability_Key__c"] for r in rest.org.records(AVAILABILITY)}
    assert [stored[r["id"]] for r in answer.json] == keys(200)


def test_201_records_are_refused_whole(rest):
    answer = rest.upsert_collection([availability(k) for k in keys(201)])
    assert answer.status_code == 400 and error_code(answer) == "EXCEEDED_ID_LIMIT"
    assert rest.org.records(AVAILABILITY) == []


def test_a_second_upsert_of_the_same_keys_updates_them(rest):
    first = rest.upsert_collection([availability(k) for k in keys(3)]).json
    second = rest.upsert_collection([availability(k, Available_To_Sell__c=1) for k in keys(3)]).json
    assert [r["id"] for r in second] == [r["id"] for r in first]
    assert [r["created"] for r in second] == [False, False, False]
    assert {r["Available_To_Sell__c"] for r in rest.org.records(AVAILABILITY)} == {1.0}


def test_without_all_or_none_each_record_stands_alone_and_failures_keep_their_place(rest):
    records = [
        availability("MAT-1001|S001"),
        availability("MAT-1002|S001", Available_To_Sell__c="lots"),
        availability("MAT-1003|S001"),
        availability("MAT-1004|S001", Location_Type__c="planet"),
    ]
    results = rest.upsert_collection(records).json
    assert [r["success"] for r in results] == [True, False, True, False]
    assert results[1] == {
        "success": False,
        "created": False,
        "errors": [
            {
                "statusCode": "INVALID_TYPE_ON_FIELD_IN_RECORD",
                "message": results[1]["errors"][0]["message"],
                "fields": ["Available_To_Sell__c"],
            }
        ],
    }
    assert results[3]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert sorted(r["Availability_Key__c"] for r in rest.org.records(AVAILABILITY)) == [
        "MAT-1001|S001",
        "MAT-1003|S001",
    ]


def test_with_all_or_none_one_failure_rolls_back_every_record(rest):
    rest.upsert_collection([availability("MAT-1001|S001", Available_To_Sell__c=9)])
    records = [
        availability("MAT-1001|S001", Available_To_Sell__c=1),
        availability("MAT-1002|S001"),
        availability("MAT-1003|S001", SKU__c=None),
    ]
    results = rest.upsert_collection(records, all_or_none=True).json
    assert [r["success"] for r in results] == [False, False, False]
    assert [r["errors"][0]["statusCode"] for r in results] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "REQUIRED_FIELD_MISSING",
    ]
    [kept] = rest.org.records(AVAILABILITY)
    assert kept["Available_To_Sell__c"] == 9.0
    assert [h["operation"] for h in rest.org.history(AVAILABILITY, kept["Id"])] == ["create"]


def test_the_same_external_id_twice_in_one_call_fails_both_records(rest):
    results = rest.upsert_collection(
        [availability("MAT-1001|S001"), availability("MAT-1002|S001"), availability("mat-1001|s001")]
    ).json
    assert [r["success"] for r in results] == [False, True, False]
    assert {r["errors"][0]["statusCode"] for r in (results[0], results[2])} == {"DUPLICATE_EXTERNAL_ID"}


def test_a_record_without_its_external_id_fails_alone(rest):
    record = availability("MAT-1001|S001")
    del record["Availability_Key__c"]
    results = rest.upsert_collection([record, availability("MAT-1002|S001")]).json
    assert [r["success"] for r in results] == [False, True]
    assert results[0]["errors"][0]["fields"] == ["Availability_Key__c"]


def test_upsert_collection_on_a_field_that_is_no_external_id_is_not_found(rest):
    answer = rest.upsert_collection([availability("MAT-1001|S001")], field_name="SKU__c")
    assert answer.status_code == 404 and error_code(answer) == "NOT_FOUND"


def test_create_collection_publishes_events_and_creates_records_of_any_object(rest):
    event = {**availability("MAT-1001|S001"), "attributes": {"type": "Inventory_Availability__e"}}
    product = {"attributes": {"type": "Product2"}, "Name": "Shirt", "StockKeepingUnit": "MAT-1001"}
    answer = rest.post("/composite/sobjects", {"allOrNone": False, "records": [event, product]})
    assert answer.status_code == 200
    published, created = answer.json
    assert published["id"].startswith("e00") and published["errors"][0]["statusCode"] == "OPERATION_ENQUEUED"
    assert created == {"id": created["id"], "success": True, "errors": []} and created["id"].startswith("01t")
    assert len(rest.org.platform_events("Inventory_Availability__e")) == 1


def test_create_collection_with_all_or_none_publishes_nothing_when_one_record_fails(rest):
    event = {**availability("MAT-1001|S001"), "attributes": {"type": "Inventory_Availability__e"}}
    untyped = {"Name": "Shirt"}
    results = rest.post("/composite/sobjects", {"allOrNone": True, "records": [event, untyped]}).json
    assert [r["errors"][0]["statusCode"] for r in results] == ["ALL_OR_NONE_OPERATION_ROLLED_BACK", "INVALID_TYPE"]
    assert rest.org.platform_events("Inventory_Availability__e") == []


def test_concurrent_upserts_of_the_same_keys_over_http_never_duplicate_a_record(rest):
    batch = keys(50)

    def publish(url: str, round_number: int) -> list[bool]:
        records = [availability(k, Available_To_Sell__c=round_number) for k in batch]
        answer = requests.patch(
            f"{url}{DATA}/composite/sobjects/{AVAILABILITY}/Availability_Key__c",
            json={"allOrNone": True, "records": records},
            timeout=10,
            headers={"Authorization": f"Bearer {rest.token}"},
        )
        return [r["success"] for r in answer.json()]

    with serving(rest.app) as url, ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda n: publish(url, n), range(16)))
    assert all(all(outcome) for outcome in outcomes)
    stored = rest.org.records(AVAILABILITY)
    assert sorted(r["Availability_Key__c"] for r in stored) == sorted(batch)
    assert len({r["Available_To_Sell__c"] for r in stored}) == 1  # each call applied whole, never interleaved
