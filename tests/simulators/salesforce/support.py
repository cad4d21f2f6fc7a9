"""Helpers of the Salesforce simulator tests: settings, a clock the test moves, a REST client on
Flask's test client that logs in once, and record bodies of the inventory objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from flask import Flask
from flask.testing import FlaskClient

from gateway.settings import Settings
from simulators.salesforce.org import SalesforceOrg
from tests.support.keys import SigningKey

CLIENT_ID, CLIENT_SECRET = "3MVG9-sim-test-consumer-key", "sim-test-consumer-secret"
JWT_SUBJECT = "integration@acme.example"
DATA = "/services/data/v62.0"
TOKEN_PATH = "/services/oauth2/token"
ADMIN = "/sf-sim/admin"
AVAILABILITY = "Product_Availability__c"


def make_settings(**overrides) -> Settings:
    return Settings(
        **{
            "salesforce_client_id": CLIENT_ID,
            "salesforce_client_secret": CLIENT_SECRET,
            "salesforce_jwt_subject": JWT_SUBJECT,
            **overrides,
        }
    )


@dataclass
class Clock:
    """Aware UTC time that only moves when the test says so."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def availability(key: str, **fields) -> dict:
    """A Product_Availability__c record as the gateway's publisher sends it."""
    sku, _, location = key.partition("|")
    return {
        "attributes": {"type": AVAILABILITY},
        "Availability_Key__c": key,
        "SKU__c": sku,
        "Location__c": location or "S001",
        "Location_Type__c": "location",
        "Channel__c": "web",
        "Available_To_Sell__c": 5,
        "Available_To_Order__c": 7,
        "Status__c": "in_stock",
        "As_Of__c": "2026-03-02T09:00:00Z",
        **fields,
    }


@dataclass
class Rest:
    """Salesforce REST calls through Flask's test client, with a client-credentials token."""

    app: Flask
    client: FlaskClient
    token: str = ""

    @property
    def org(self) -> SalesforceOrg:
        return self.app.extensions["salesforce_org"]

    def login(self) -> str:
        answer = self.client.post(
            TOKEN_PATH, data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
        )
        assert answer.status_code == 200, answer.json
        self.token = answer.json["access_token"]
        return self.token

    def call(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.open(DATA + path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body, **kwargs):
        return self.call("POST", path, json=body, **kwargs)

    def patch(self, path: str, body, **kwargs):
        return self.call("PATCH", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def upsert_collection(
        self,
        records: list[dict],
        *,
        all_or_none: bool = False,
        object_name: str = AVAILABILITY,
        field_name: str = "Availability_Key__c",
    ):
        return self.patch(
            f"/composite/sobjects/{object_name}/{field_name}", {"allOrNone": all_or_none, "records": records}
        )

    def admin(self, method: str, path: str, **kwargs):
        return self.client.open(ADMIN + path, method=method, auth=(CLIENT_ID, CLIENT_SECRET), **kwargs)


def error_code(answer) -> str:
    """The errorCode of a Salesforce REST error answer (an array of one error)."""
    body = answer.json
    assert isinstance(body, list) and len(body) == 1, body
    return body[0]["errorCode"]


def assertion(
    key: SigningKey,
    *,
    clock: Clock,
    issuer: str = CLIENT_ID,
    subject: str = JWT_SUBJECT,
    audience: str = "https://login.salesforce.com",
    lifetime_seconds: float = 120,
) -> str:
    """A JWT bearer assertion as a connected app's client signs it."""
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "exp": int((clock.now + timedelta(seconds=lifetime_seconds)).timestamp()),
    }
    return jwt.encode(claims, key.private_pem, algorithm="RS256")
