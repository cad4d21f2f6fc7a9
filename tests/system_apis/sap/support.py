"""Helpers of the SAP system API tests: settings, posting in the simulator, pushing business
events as SAP's broker does, and reading positions on both sides."""

from __future__ import annotations

import json
import time
import uuid

from gateway.settings import Settings
from system_apis.sap.webhook import MATERIAL_DOCUMENT_CREATED, signature
from tests.support.auth import service_client

SAP_USER, SAP_PASSWORD, SECRET = "COMM_USER", "test-password", "test-webhook-secret"
#: Store S1 and its back room S3 are two storage locations of plant 1010; DC D2 is plant 2020.
LOCATION_MAP = {"1010/0001": "S1", "1010/0009": "S3", "2020/0002": "D2"}
LOCATIONS = ("S1", "S3", "D2")
STOCK_FIELDS = ("on_hand", "quality_inspection", "blocked", "in_transit")


def make_settings(**overrides) -> Settings:
    values = dict(
        sap_user=SAP_USER,
        sap_password=SAP_PASSWORD,
        sap_webhook_secret=SECRET,
        sap_location_map=json.dumps(LOCATION_MAP),
        upstream_attempts=3,
    )
    return Settings(**{**values, **overrides})


def sap_system(simulator):
    return simulator.extensions["sap_system"]


def post_movement(
    simulator,
    movement_type: str,
    quantity,
    *,
    material: str = "MAT-1",
    plant: str = "1010",
    sloc: str = "0001",
    **fields,
) -> tuple[str, str]:
    """Post a one-item goods movement in the simulator; the document key."""
    item = {
        "GoodsMovementType": movement_type,
        "Material": material,
        "Plant": plant,
        "StorageLocation": sloc,
        "QuantityInEntryUnit": str(quantity),
        **fields,
    }
    return sap_system(simulator).post_document({"GoodsMovementCode": "05"}, [item]).key


def cloud_event(year: str, number: str, *, event_id: str | None = None, type: str = MATERIAL_DOCUMENT_CREATED) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": "/default/sap.s4.beh/S4HCLNT100",
        "type": type,
        "time": "2026-01-05T10:15:00Z",
        "datacontenttype": "application/json",
        "data": {"MaterialDocument": number, "MaterialDocumentYear": year},
    }


def push(
    client,
    event: dict,
    *,
    mode: str = "structured",
    secret: str = SECRET,
    signed_at: int | None = None,
    headers: dict | None = None,
):
    """Deliver a CloudEvent to the webhook as SAP's broker does, signed with `secret`."""
    if mode == "binary":
        body = json.dumps(event["data"]).encode()
        sent = {
            "Content-Type": "application/json",
            **{f"ce-{k}": event[k] for k in ("specversion", "id", "source", "type", "time")},
        }
    else:  # structured: as CloudEvents names it, or as plain JSON (as SAP Event Mesh sends it)
        body = json.dumps(event).encode()
        sent = {"Content-Type": "application/json" if mode == "structured-json" else "application/cloudevents+json"}
    timestamp = str(signed_at if signed_at is not None else int(time.time()))
    sent.update({"X-Signature-Timestamp": timestamp, "X-Signature": signature(secret, timestamp, body)})
    sent.update(headers or {})
    return client.post("/sap/v1/business-events", data=body, headers=sent)


def positions(process_app, sku: str = "MAT-1") -> dict[str, dict]:
    """The gateway's stock fields per location holding `sku`."""
    answer = service_client(process_app).get("/inventory/v1/availability", query_string={"sku": sku})
    assert answer.status_code == 200, answer.get_json()
    return {p["location"]: {name: p[name] for name in STOCK_FIELDS} for p in answer.get_json()["positions"]}


def sap_positions(simulator, sku: str = "MAT-1") -> dict[str, dict]:
    """SAP's stock table summed per mapped location, in the gateway's terms."""
    fields = {"01": "on_hand", "02": "quality_inspection", "07": "blocked", "06": "in_transit"}
    totals: dict[str, dict] = {}
    for row in sap_system(simulator).stock_snapshot()["stock"]:
        location = LOCATION_MAP.get(f"{row['plant']}/{row['storage_location']}")
        if row["material"] != sku or location is None:
            continue
        totals.setdefault(location, dict.fromkeys(STOCK_FIELDS, 0))[fields[row["stock_type"]]] += row["quantity"]
    return totals


def nonzero(table: dict[str, dict]) -> dict[str, dict]:
    return {loc: fields for loc, fields in table.items() if any(fields.values())}


ISSUER, AUDIENCE = "https://broker-tenant.authentication.example.com/oauth/token", "inventory-gateway-webhook"


class TokenIssuer:
    """An OAuth 2.0 issuer of the tests: an RSA key of its own, its JWKS, and bearer tokens (JWT, RS256)
    signed with it, as the authorization server an event broker gets its tokens from."""

    def __init__(self, kid: str = "test-key-1") -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict:
        import jwt

        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(self, *, lifetime: int = 300, **claims) -> str:
        import jwt

        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "sap-event-mesh", "iat": now, "exp": now + lifetime}
        payload.update(claims)
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.kid})
