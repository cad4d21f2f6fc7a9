"""simple-salesforce, unchanged, against the simulator over real HTTPS (trustme certificates)."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceMalformedRequest

from tests.simulators.salesforce.support import AVAILABILITY, availability


@pytest.fixture
def sf(https_org) -> Salesforce:
    session = requests.Session()
    session.verify = https_org.ca_file
    session.trust_env = False  # else REQUESTS_CA_BUNDLE in the environment would override `verify`
    return Salesforce(instance_url=https_org.url, session_id=https_org.rest.token, version="62.0", session=session)


def fields(key: str, **changes) -> dict:
    return {k: v for k, v in availability(key, **changes).items() if k != "attributes"}


def test_create_and_read_back_a_product(sf):
    created = sf.Product2.create({"Name": "Linen shirt", "StockKeepingUnit": "MAT-1001", "IsActive": True})
    assert created["success"] is True and created["id"].startswith("01t")
    assert sf.Product2.get(created["id"])["StockKeepingUnit"] == "MAT-1001"
    assert sf.Product2.get_by_custom_id("StockKeepingUnit", "MAT-1001")["Id"] == created["id"]


def test_upsert_creates_then_updates(sf, https_org):
    body = fields("MAT-1001|S001")
    del body["Availability_Key__c"]
    availability_object = getattr(sf, AVAILABILITY)
    assert availability_object.upsert("Availability_Key__c/MAT-1001|S001", body) == 201
    assert availability_object.upsert("Availability_Key__c/MAT-1001|S001", {"Available_To_Sell__c": 0}) == 200
    [record] = https_org.rest.org.records(AVAILABILITY)
    assert record["Available_To_Sell__c"] == 0.0


def test_query_all_follows_the_pages(sf, https_org):
    results = https_org.rest.upsert_collection([availability(f"MAT-{1001 + n}|S001") for n in range(12)]).json
    assert all(r["success"] for r in results)
    everything = sf.query_all(f"SELECT Id, Availability_Key__c FROM {AVAILABILITY} WHERE Location__c = 'S001'")
    assert everything["totalSize"] == 12 and len(everything["records"]) == 12
    assert len({r["Id"] for r in everything["records"]}) == 12


def test_publishing_a_platform_event(sf, https_org):
    answer = sf.Inventory_Availability__e.create(fields("MAT-1001|WEB-SHIP", Location_Type__c="location_group"))
    assert answer["success"] is True and answer["errors"][0]["statusCode"] == "OPERATION_ENQUEUED"
    [event] = https_org.rest.org.platform_events("Inventory_Availability__e")
    assert event["Location__c"] == "WEB-SHIP"


def test_the_clients_api_usage_comes_from_sforce_limit_info(sf):
    sf.describe()
    assert sf.api_usage["api-usage"].used == 1 and sf.api_usage["api-usage"].total == 100000


def test_an_expired_session_raises_salesforce_expired_session(sf, https_org):
    https_org.rest.org.expire_tokens()
    with pytest.raises(SalesforceExpiredSession) as raised:
        sf.Product2.create({"Name": "Linen shirt"})
    assert raised.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_a_validation_error_raises_malformed_request_with_salesforces_body(sf):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Product2.create({"Name": "Linen shirt", "Colour__c": "blue"})
    assert raised.value.content[0]["errorCode"] == "INVALID_FIELD"
