"""Single-record REST: create, read, update, delete, upsert by external id, field validation, ids."""

from __future__ import annotations

import pytest

from simulators.salesforce.ids import checksum_suffix
from simulators.salesforce.org import OrgOptions
from simulators.salesforce.schema import STANDARD_OBJECTS, STRING, Field, SObjectType
from tests.simulators.salesforce.support import AVAILABILITY, availability, error_code

PRODUCT = {"Name": "Linen shirt", "ProductCode": "LS-01", "StockKeepingUnit": "MAT-1001", "IsActive": True}


def test_create_answers_201_with_an_18_character_id_of_the_objects_key_prefix(rest):
    answer = rest.post("/sobjects/Product2/", PRODUCT)
    assert answer.status_code == 201
    record_id = answer.json["id"]
    assert answer.json == {"id": record_id, "success": True, "errors": []}
    assert len(record_id) == 18 and record_id.startswith("01t")
    assert record_id[15:] == checksum_suffix(record_id[:15])


def test_a_created_record_reads_back_with_attributes_and_system_fields(rest):
    record_id = rest.post("/sobjects/Product2/", PRODUCT).json["id"]
    record = rest.get(f"/sobjects/Product2/{record_id}").json
    assert record["attributes"] == {"type": "Product2", "url": f"/services/data/v62.0/sobjects/Product2/{record_id}"}
    assert record["Id"] == record_id and record["Name"] == "Linen shirt" and record["IsActive"] is True
    assert record["CreatedDate"] == "2026-03-02T09:00:00.000+0000" and record["Description"] is None
    only = rest.get(f"/sobjects/Product2/{record_id}?fields=Name,ProductCode").json
    assert set(only) == {"attributes", "Name", "ProductCode"}


def test_the_well_known_checksum_suffix_is_computed():
    assert checksum_suffix("001A0000006Vm9r") == "IAC"  # a documented 15 -> 18 character example


def test_update_and_delete_by_id(rest):
    record_id = rest.post("/sobjects/Product2/", PRODUCT).json["id"]
    assert rest.patch(f"/sobjects/Product2/{record_id}", {"Name": "Linen shirt, blue"}).status_code == 204
    assert rest.get(f"/sobjects/Product2/{record_id}").json["Name"] == "Linen shirt, blue"
    assert rest.delete(f"/sobjects/Product2/{record_id}").status_code == 204
    assert error_code(rest.get(f"/sobjects/Product2/{record_id}")) == "NOT_FOUND"
    assert error_code(rest.delete(f"/sobjects/Product2/{record_id}")) == "ENTITY_IS_DELETED"


def test_upsert_by_external_id_creates_then_updates_the_same_record(rest):
    path = f"/sobjects/{AVAILABILITY}/Availability_Key__c/MAT-1001|S001"
    body = {k: v for k, v in availability("MAT-1001|S001").items() if k not in ("attributes", "Availability_Key__c")}
    created = rest.patch(path, body)
    assert created.status_code == 201
    assert created.json == {"id": created.json["id"], "success": True, "errors": [], "created": True}
    updated = rest.patch(path, {"Available_To_Sell__c": 2})
    assert updated.status_code == 200  # API 46.0 and later answer an update with a body
    assert updated.json == {"id": created.json["id"], "success": True, "errors": [], "created": False}
    assert rest.get(path).json["Available_To_Sell__c"] == 2.0
    assert len(rest.org.records(AVAILABILITY)) == 1


@pytest.fixture
def org_options():
    """The standard objects plus one with a non-unique external id, and an old API version too."""
    tagged = SObjectType(
        "Shelf_Tag__c", "Shelf Tag", "a0T", (Field("Barcode__c", STRING, external_id=True),), custom=True
    )
    return OrgOptions(page_size=5, objects=(*STANDARD_OBJECTS, tagged), api_versions=("45.0", "62.0"))


def test_upsert_update_answers_204_without_body_in_old_api_versions(rest):
    rest.patch("/sobjects/Product2/StockKeepingUnit/MAT-1001", {"Name": "Shirt"})
    answer = rest.client.patch(
        "/services/data/v45.0/sobjects/Product2/StockKeepingUnit/MAT-1001",
        json={"Name": "Shirt 2"},
        headers={"Authorization": f"Bearer {rest.token}"},
    )
    assert answer.status_code == 204 and answer.data == b""


def test_upsert_matching_several_records_answers_300_with_their_urls(rest):
    first = rest.post("/sobjects/Shelf_Tag__c/", {"Barcode__c": "4006381333931"}).json["id"]
    second = rest.post("/sobjects/Shelf_Tag__c/", {"Barcode__c": "4006381333931"}).json["id"]
    answer = rest.patch("/sobjects/Shelf_Tag__c/Barcode__c/4006381333931", {})
    assert answer.status_code == 300
    assert answer.json == [f"/services/data/v62.0/sobjects/Shelf_Tag__c/{i}" for i in sorted((first, second))]


def test_upsert_on_a_field_that_is_no_external_id_answers_404(rest):
    answer = rest.patch("/sobjects/Product2/Name/Shirt", {"ProductCode": "X"})
    assert answer.status_code == 404 and error_code(answer) == "NOT_FOUND"
    assert "Name" in answer.json[0]["message"]


def test_external_ids_match_regardless_of_case(rest):
    created = rest.patch("/sobjects/Product2/StockKeepingUnit/MAT-1001", {"Name": "Shirt"}).json["id"]
    assert rest.patch("/sobjects/Product2/StockKeepingUnit/mat-1001", {"Name": "Shirt 2"}).json["id"] == created


@pytest.mark.parametrize(
    "body, code, field",
    [
        ({**PRODUCT, "Colour__c": "blue"}, "INVALID_FIELD", "Colour__c"),
        ({**PRODUCT, "IsActive": "sometimes"}, "INVALID_TYPE_ON_FIELD_IN_RECORD", "IsActive"),
        ({"ProductCode": "LS-01"}, "REQUIRED_FIELD_MISSING", "Name"),
        ({**PRODUCT, "Name": "x" * 256}, "STRING_TOO_LONG", "Name"),
        ({**PRODUCT, "Id": "01t5g0000000001AAA"}, "INVALID_FIELD_FOR_INSERT_UPDATE", "Id"),
    ],
)
def test_invalid_records_are_rejected_with_salesforces_error_codes(rest, body, code, field):
    answer = rest.post("/sobjects/Product2/", body)
    assert answer.status_code == 400
    assert answer.json[0]["errorCode"] == code and field in answer.json[0]["fields"]
    assert rest.org.records("Product2") == []


@pytest.mark.parametrize(
    "change, code",
    [
        ({"Available_To_Sell__c": "many"}, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ({"As_Of__c": "yesterday"}, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ({"Location_Type__c": "warehouse"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
    ],
)
def test_custom_fields_are_checked_against_their_types(rest, change, code):
    assert error_code(rest.post(f"/sobjects/{AVAILABILITY}/", availability("MAT-1001|S001", **change))) == code


def test_values_are_stored_in_salesforces_forms(rest):
    record_id = rest.post(
        f"/sobjects/{AVAILABILITY}/",
        availability("MAT-1001|S001", Available_To_Sell__c="4", As_Of__c="2026-03-02T10:15:00.250+01:00"),
    ).json["id"]
    record = rest.get(f"/sobjects/{AVAILABILITY}/{record_id}").json
    assert record["Available_To_Sell__c"] == 4.0
    assert record["As_Of__c"] == "2026-03-02T09:15:00.250+0000"


def test_a_unique_field_refuses_a_second_record_with_the_same_value(rest):
    rest.post("/sobjects/Product2/", PRODUCT)
    answer = rest.post("/sobjects/Product2/", {**PRODUCT, "StockKeepingUnit": "mat-1001"})
    assert error_code(answer) == "DUPLICATE_VALUE"


def test_an_unknown_object_is_not_found(rest):
    answer = rest.post("/sobjects/Basket__c/", {"Name": "x"})
    assert answer.status_code == 404 and error_code(answer) == "NOT_FOUND"


def test_a_body_that_is_not_json_is_a_parser_error(rest):
    answer = rest.call("POST", "/sobjects/Product2/", data="{not json", content_type="application/json")
    assert answer.status_code == 400 and error_code(answer) == "JSON_PARSER_ERROR"


def test_the_org_lists_its_api_versions_and_objects(rest):
    versions = rest.client.get("/services/data/").json
    assert {"label": "v62.0", "url": "/services/data/v62.0", "version": "62.0"} in versions
    names = {o["name"]: o for o in rest.get("/sobjects/").json["sobjects"]}
    assert names["Product2"]["keyPrefix"] == "01t" and names["Inventory_Availability__e"]["keyPrefix"] == "e00"
    fields = {f["name"]: f for f in rest.get(f"/sobjects/{AVAILABILITY}/describe/").json["fields"]}
    assert fields["Availability_Key__c"]["externalId"] and fields["Availability_Key__c"]["unique"]
    assert fields["As_Of__c"]["type"] == "datetime"


def test_an_unsupported_api_version_is_not_found(rest):
    answer = rest.client.get("/services/data/v20.0/sobjects/", headers={"Authorization": f"Bearer {rest.token}"})
    assert answer.status_code == 404 and error_code(answer) == "NOT_FOUND"


def test_publishing_a_platform_event_answers_operation_enqueued(rest):
    body = {k: v for k, v in availability("MAT-1001|S001").items() if k != "attributes"}
    answer = rest.post("/sobjects/Inventory_Availability__e/", body)
    assert answer.status_code == 201
    assert answer.json["id"].startswith("e00") and answer.json["success"] is True
    [enqueued] = answer.json["errors"]
    assert enqueued["statusCode"] == "OPERATION_ENQUEUED" and enqueued["fields"] == []
    [event] = rest.org.platform_events("Inventory_Availability__e")
    assert event["EventUuid"] == enqueued["message"] and event["Availability_Key__c"] == "MAT-1001|S001"
    assert event["ReplayId"] == "1"


def test_an_event_with_a_field_it_does_not_have_is_refused(rest):
    answer = rest.post(
        "/sobjects/Inventory_Availability__e/", {"SKU__c": "MAT-1001", "Location__c": "S001", "Bogus__c": 1}
    )
    assert error_code(answer) == "INVALID_FIELD"
    assert rest.org.platform_events("Inventory_Availability__e") == []


def test_a_15_character_id_finds_the_same_record(rest):
    record_id = rest.post("/sobjects/Product2/", PRODUCT).json["id"]
    assert rest.get(f"/sobjects/Product2/{record_id[:15]}").json["Id"] == record_id
    body = rest.get(f"/query/?q=SELECT Name FROM Product2 WHERE Id = '{record_id[:15]}'").json
    assert body["totalSize"] == 1


def test_an_upsert_whose_body_names_another_external_id_is_refused(rest):
    answer = rest.patch(
        "/sobjects/Product2/StockKeepingUnit/MAT-1001", {"Name": "Shirt", "StockKeepingUnit": "MAT-1002"}
    )
    assert error_code(answer) == "INVALID_FIELD" and rest.org.records("Product2") == []
    same = rest.patch("/sobjects/Product2/StockKeepingUnit/MAT-1001", {"Name": "Shirt", "StockKeepingUnit": "MAT-1001"})
    assert same.status_code == 201
