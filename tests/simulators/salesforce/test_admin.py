"""The admin API and its in-process twin on SalesforceOrg: records, write history, events, reset."""

from __future__ import annotations

from tests.simulators.salesforce.support import ADMIN, AVAILABILITY, availability


def test_history_lists_every_write_of_a_record_in_order(rest, clock):
    key = "MAT-1001|S001"
    rest.upsert_collection([availability(key, As_Of__c="2026-03-02T09:00:00Z")])
    clock.advance(1)
    rest.upsert_collection([availability(key, As_Of__c="2026-03-02T09:00:01Z", Available_To_Sell__c=4)])
    record_id = rest.org.records(AVAILABILITY)[0]["Id"]
    rest.delete(f"/sobjects/{AVAILABILITY}/{record_id}")

    by_key = rest.admin("GET", f"/history/{AVAILABILITY}/Availability_Key__c/{key}").json
    assert [h["operation"] for h in by_key] == ["create", "update", "delete"]
    assert [h["fields"]["As_Of__c"] for h in by_key] == [
        "2026-03-02T09:00:00.000+0000",
        "2026-03-02T09:00:01.000+0000",
        "2026-03-02T09:00:01.000+0000",
    ]
    assert by_key[1]["time"] == "2026-03-02T09:00:01.000+0000" and by_key[1]["fields"]["Available_To_Sell__c"] == 4
    assert rest.admin("GET", f"/history/{AVAILABILITY}/{record_id}").json == by_key
    assert rest.org.history(AVAILABILITY, "Availability_Key__c", key) == by_key


def test_records_and_usage_reads_do_not_count_as_api_calls(rest):
    rest.upsert_collection([availability("MAT-1001|S001")])
    [record] = rest.admin("GET", f"/records/{AVAILABILITY}").json
    assert record["Availability_Key__c"] == "MAT-1001|S001"
    assert rest.admin("GET", "/usage").json["used"] == 1


def test_platform_events_are_listed_in_publishing_order(rest):
    for sku in ("MAT-1001", "MAT-1002"):
        rest.post(
            "/sobjects/Inventory_Availability__e",
            {"SKU__c": sku, "Location__c": "WEB-SHIP", "Location_Type__c": "location_group"},
        )
    events = rest.admin("GET", "/platform-events/Inventory_Availability__e").json
    assert [(e["ReplayId"], e["SKU__c"]) for e in events] == [("1", "MAT-1001"), ("2", "MAT-1002")]


def test_reset_forgets_everything_and_can_seed_the_demo_products(rest):
    rest.upsert_collection([availability("MAT-1001|S001")])
    rest.org.faults.update(latency_ms=5)
    assert rest.admin("POST", "/reset", json={"demo": True}).status_code == 200
    assert rest.org.records(AVAILABILITY) == [] and rest.org.faults.settings.latency_ms == 0
    skus = sorted(p["StockKeepingUnit"] for p in rest.org.records("Product2"))
    assert skus == [f"MAT-{n}" for n in range(1001, 1021)]
    assert rest.get("/sobjects/").status_code == 401  # tokens are gone too


def test_the_admin_api_wants_the_connected_apps_credentials(rest):
    answer = rest.client.get(f"{ADMIN}/usage", auth=("someone", "guess"))
    assert answer.status_code == 401 and answer.content_type == "application/problem+json"
    assert rest.client.get(f"{ADMIN}/usage").status_code == 401


def test_an_unknown_object_in_the_admin_api_is_a_404_problem(rest):
    answer = rest.admin("GET", "/records/Basket__c")
    assert answer.status_code == 404 and answer.content_type == "application/problem+json"
