"""The SOQL subset: field lists, WHERE with AND, ORDER BY, LIMIT, and paging through a cursor."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.simulators.salesforce.support import AVAILABILITY, availability, error_code


@pytest.fixture
def stocked(rest):
    records = [
        availability(
            f"MAT-{1001 + n % 4}|S00{n // 4 + 1}", Available_To_Sell__c=n, Channel__c="web" if n % 2 else "store"
        )
        for n in range(12)
    ]
    assert all(r["success"] for r in rest.upsert_collection(records).json)
    return rest


def soql(rest, text: str):
    return rest.get(f"/query/?q={quote(text)}")


def test_a_query_selects_the_named_fields_of_the_matching_records(stocked):
    answer = soql(
        stocked,
        f"SELECT Availability_Key__c, Available_To_Sell__c FROM {AVAILABILITY} "
        "WHERE SKU__c = 'MAT-1002' AND Channel__c = 'web'",
    )
    assert answer.status_code == 200
    body = answer.json
    assert body["totalSize"] == 3 and body["done"] is True and "nextRecordsUrl" not in body
    assert sorted(r["Availability_Key__c"] for r in body["records"]) == [
        "MAT-1002|S001",
        "MAT-1002|S002",
        "MAT-1002|S003",
    ]
    record = body["records"][0]
    assert set(record) == {"attributes", "Availability_Key__c", "Available_To_Sell__c"}
    assert record["attributes"]["type"] == AVAILABILITY
    assert record["attributes"]["url"].startswith(f"/services/data/v62.0/sobjects/{AVAILABILITY}/a0A")


def test_keywords_are_case_insensitive_and_numbers_compare_as_numbers(stocked):
    body = soql(
        stocked,
        f"select Id, Available_To_Sell__c from {AVAILABILITY} where Available_To_Sell__c >= 9 "
        "order by Available_To_Sell__c desc limit 2",
    ).json
    assert [r["Available_To_Sell__c"] for r in body["records"]] == [11.0, 10.0]


def test_a_large_result_is_paged_and_the_pages_add_up(stocked):
    first = soql(stocked, f"SELECT Id FROM {AVAILABILITY}").json
    assert first["totalSize"] == 12 and first["done"] is False and len(first["records"]) == 5
    seen = [r["Id"] for r in first["records"]]
    page = first
    while not page["done"]:
        assert page["nextRecordsUrl"].startswith("/services/data/v62.0/query/01g")
        page = stocked.client.get(page["nextRecordsUrl"], headers={"Authorization": f"Bearer {stocked.token}"}).json
        seen += [r["Id"] for r in page["records"]]
    assert sorted(seen) == sorted(r["Id"] for r in stocked.org.records(AVAILABILITY))


@pytest.mark.parametrize(
    "text, code",
    [
        (f"SELECT Colour__c FROM {AVAILABILITY}", "INVALID_FIELD"),
        ("SELECT Id FROM Basket__c", "INVALID_TYPE"),
        (f"SELECT Id FROM {AVAILABILITY} WHERE", "MALFORMED_QUERY"),
        (f"SELECT Id FROM {AVAILABILITY} LIMIT many", "MALFORMED_QUERY"),
        (f"SELECT Id {AVAILABILITY}", "MALFORMED_QUERY"),
        (f"SELECT Id FROM {AVAILABILITY} WHERE Available_To_Sell__c = 'x'", "INVALID_QUERY_FILTER_OPERATOR"),
    ],
)
def test_queries_outside_the_subset_or_schema_are_rejected(rest, text, code):
    answer = soql(rest, text)
    assert answer.status_code == 400 and error_code(answer) == code


def test_an_unknown_query_locator_is_rejected(rest):
    assert error_code(rest.get("/query/01g5g0000000001-5")) == "INVALID_QUERY_LOCATOR"


def test_a_quoted_value_may_hold_an_escaped_quote(rest):
    rest.post("/sobjects/Product2/", {"Name": "Levi's 501", "StockKeepingUnit": "MAT-1001"})
    body = soql(rest, r"SELECT Name FROM Product2 WHERE Name = 'Levi\'s 501'").json
    assert [r["Name"] for r in body["records"]] == ["Levi's 501"]
