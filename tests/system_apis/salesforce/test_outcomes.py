"""Outcomes in Salesforce's terms: keys, fields, the newest per key, dead-letter reasons."""

from __future__ import annotations

from datetime import UTC, datetime

from system_apis.salesforce.schemas import OutcomeSchema
from system_apis.salesforce.service import availability_key, dead_letter_reason, newest_per_key, salesforce_fields
from tests.system_apis.salesforce.support import outcome


def loaded(**changes) -> dict:
    return OutcomeSchema().load(outcome(**changes))


def test_key_and_fields_of_a_location_group_outcome():
    fields = salesforce_fields(loaded(group="WEB-SHIP", channel="web", ats=3, ato=4))
    assert fields == {
        "Availability_Key__c": "MAT-1|WEB-SHIP|web",
        "SKU__c": "MAT-1",
        "Location__c": "WEB-SHIP",
        "Location_Type__c": "location_group",
        "Channel__c": "web",
        "Available_To_Sell__c": 3,
        "Available_To_Order__c": 4,
        "Status__c": "in_stock",
        "As_Of__c": "2026-11-26T10:00:00+00:00",
    }


def test_newest_per_key_keeps_the_latest_as_of_and_the_later_of_a_tie():
    outcomes = [loaded(ms=5), loaded(location="S2"), loaded(ms=9), loaded(ms=9, ats=1), loaded(ms=1)]
    assert newest_per_key(outcomes) == [1, 3]


def test_as_of_is_compared_as_an_instant_not_as_text():
    later_in_another_zone = {**outcome(), "as_of": "2026-11-26T11:30:00+01:00"}  # 10:30 UTC
    outcomes = [OutcomeSchema().load(later_in_another_zone), loaded(ms=60_000)]
    assert newest_per_key(outcomes) == [0]
    assert outcomes[0]["as_of"] > datetime(2026, 11, 26, 10, 1, tzinfo=UTC)


def test_dead_letter_reasons_are_what_the_process_api_accepts():
    assert dead_letter_reason("STRING_TOO_LONG") == "string_too_long"
    assert dead_letter_reason("HTTP_500") == "http_500"
    assert dead_letter_reason("42-BAD") == "salesforce_42_bad"
    assert availability_key(loaded()) == "MAT-1|S1|web"
