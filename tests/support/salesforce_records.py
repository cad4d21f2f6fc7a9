"""The Salesforce simulator's availability records, and the gateway's values for the same keys: what
the end-to-end test and the Salesforce benchmark compare."""

from __future__ import annotations

import secrets
from collections import defaultdict

import requests

from gateway.demo import DEMO_SALESFORCE_CLIENT_ID
from tests.support.sap_gateway import TIMEOUT

SF_ADMIN = "/sf-sim/admin"
RECORDS = "Product_Availability__c"
#: The Salesforce simulator's connected-app secret of the stacks this run starts (SALESFORCE_CLIENT_SECRET):
#: made up once per run, as demo mode does, so the helpers can sign in to its admin API.
SALESFORCE_CLIENT_SECRET = secrets.token_urlsafe(24)
SALESFORCE_AUTH = (DEMO_SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET)


def salesforce_records(base: str) -> list[dict]:
    answer = requests.get(
        f"{base}{SF_ADMIN}/records/{RECORDS}",
        timeout=TIMEOUT,
        auth=SALESFORCE_AUTH,
    )
    answer.raise_for_status()
    return answer.json()


def gateway_values(gateway, records: list[dict]) -> dict[str, tuple]:
    """The gateway's (available_to_sell, available_to_order, status) for every record's key, read
    with one availability query per location (or group) and channel."""
    scopes = defaultdict(set)
    for record in records:
        scopes[(record["Location_Type__c"], record["Location__c"], record["Channel__c"])].add(record["SKU__c"])
    values = {}
    for (kind, where, channel), skus in scopes.items():
        param = "location" if kind == "location" else "location_group"
        answer = gateway.api().get(
            f"{gateway.base_url}/inventory/v1/availability",
            timeout=TIMEOUT,
            params={"sku": sorted(skus), param: where, "channel": channel},
        )
        answer.raise_for_status()
        body = answer.json()
        for item in body["positions"] if kind == "location" else body["groups"]:
            key = f"{item['sku']}|{where}|{channel}"
            values[key] = (item["available_to_sell"], item["available_to_order"], item["status"])
    return values
